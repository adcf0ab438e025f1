using System.ComponentModel.DataAnnotations;

namespace Mage.Jobs.Tests.Options;

/// <summary>Runs DataAnnotations validation the way <c>ValidateDataAnnotations()</c> does at start-up.</summary>
internal static class OptionsValidation
{
    public static List<ValidationResult> Errors(object settings)
    {
        var results = new List<ValidationResult>();
        var valid = Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true);
        Assert.Equal(valid, results.Count == 0);
        return results;
    }

    /// <summary>Asserts exactly one error, about exactly <paramref name="members"/>; returns its message.</summary>
    public static string SingleError(object settings, params string[] members)
    {
        var error = Assert.Single(Errors(settings));
        Assert.Equal(members, error.MemberNames);
        Assert.NotNull(error.ErrorMessage);
        return error.ErrorMessage;
    }
}
