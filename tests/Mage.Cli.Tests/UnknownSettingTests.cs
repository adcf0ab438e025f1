namespace Mage.Cli.Tests;

/// <summary>
/// A <c>Mage__*</c> setting the service does not have (a typo, or one that was removed) stops
/// <c>mage worker</c> at start with the name, instead of being ignored.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UnknownSettingTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("Mage__Limits__MaxImageByte", "MaxImageByte")]
    [InlineData("Mage__Events__Topics", "Topics")]
    [InlineData("Mage__Model__AllowTf32", "AllowTf32")]
    [InlineData("Mage__Model__X", "X")]
    public async Task The_worker_refuses_a_setting_it_does_not_have_and_names_it(string variable, string name)
    {
        var environment = StorageNames.Environment("unknown");
        environment[variable] = "5";

        await using var worker = MageProcess.Start(environment, "worker", "--once", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");

        Assert.Equal(2, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("invalid setting", worker.Error, StringComparison.Ordinal);
        Assert.Contains($"'{name}'", worker.Error, StringComparison.Ordinal);
    }
}
