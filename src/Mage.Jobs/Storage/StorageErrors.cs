using System.Globalization;
using Azure;
using Azure.Identity;
using Mage.Jobs.Options;

namespace Mage.Jobs.Storage;

/// <summary>
/// The one place that words storage failures for people (<see cref="StorageFailures"/> tells them
/// apart): every message names the container or queue, the storage account and what would fix it.
/// Stateless and thread-safe.
/// </summary>
internal static class StorageErrors
{
    private const string CreateMissingSetting = "Mage__Storage__CreateMissing";
    private const string Provisioned = "infra/bicep creates every container and queue";

    /// <summary>With <see cref="StorageSettings.CreateMissing"/> off: the resource is not there.</summary>
    public static string Missing(StorageResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return $"{resource.Description} does not exist, and {CreateMissingSetting} is false so the app does not create it: " +
               $"create it ({Provisioned}) or set {CreateMissingSetting}=true.";
    }

    /// <summary>The resource a request named is not there.</summary>
    public static string NotFound(StorageResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return $"{resource.Description} does not exist.";
    }

    /// <summary>No answer within <paramref name="timeout"/>.</summary>
    public static string TimedOut(StorageResource resource, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var seconds = timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        return $"storage account '{resource.Account}' at {Endpoint(resource)} did not answer within {seconds} s (checking {resource.Kind} '{resource.Name}'): " +
               "check the MageStorage setting and the network.";
    }

    /// <summary>
    /// What <paramref name="e"/> says about <paramref name="resource"/>, one sentence: a missing
    /// role (403), a missing resource (404), an unreachable account or a credential that got no token.
    /// </summary>
    /// <param name="resource">The container or queue the call was about.</param>
    /// <param name="e">A storage failure (<see cref="StorageFailures.IsStorageFailure"/>).</param>
    /// <param name="creating">The call tried to create the resource (so a 403 means the role lacks create rights).</param>
    public static string Explain(StorageResource resource, Exception e, bool creating)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(e);
        return e switch
        {
            RequestFailedException { Status: 403 } f when creating =>
                $"cannot create {resource.Description} ({Code(f)}): the app's identity needs the {resource.ContributorRole} role on the account to create it. " +
                $"Or create it beforehand ({Provisioned}) and set {CreateMissingSetting}=false, so that start-up only checks that it exists.",
            RequestFailedException { Status: 403 } f =>
                $"cannot use {resource.Description} ({Code(f)}): the app's identity needs at least the {resource.ReaderRole} role on the account " +
                $"({resource.ContributorRole} to write to it).",
            RequestFailedException { Status: 404 } => NotFound(resource),
            AuthenticationFailedException a =>
                $"cannot get a token for storage account '{resource.Account}' (for {resource.Kind} '{resource.Name}'): {FirstLine(a.Message)} " +
                "Check MageStorage__credential and MageStorage__clientId, and that the identity is assigned to the app.",
            RequestFailedException { Status: 0 } or AggregateException =>
                $"cannot reach storage account '{resource.Account}' at {Endpoint(resource)} (for {resource.Kind} '{resource.Name}'): {FirstLine(Innermost(e).Message)} " +
                "Check the MageStorage setting (a connection string, or __blobServiceUri / __queueServiceUri) and the network.",
            RequestFailedException f => $"storage refused a call on {resource.Description} ({Code(f)}): {FirstLine(f.Message)}",
            _ => $"storage failed on {resource.Description}: {FirstLine(e.Message)}",
        };
    }

    /// <summary>
    /// Storage refused to read <paramref name="source"/> (<see cref="StorageFailures.IsRefused"/>):
    /// its status and code only, since the rest of the answer may name the account or the identity.
    /// </summary>
    public static string ReadRefused(string source, RequestFailedException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return $"{source} cannot be read: storage answered {Code(e)}.";
    }

    private static string Code(RequestFailedException e) =>
        string.IsNullOrEmpty(e.ErrorCode) ? e.Status.ToString(CultureInfo.InvariantCulture) : $"{e.Status} {e.ErrorCode}";

    private static string Endpoint(StorageResource resource) => resource.Uri.GetLeftPart(UriPartial.Authority);

    private static Exception Innermost(Exception e)
    {
        while (true)
        {
            var next = e is AggregateException { InnerExceptions.Count: > 0 } a ? a.InnerExceptions[^1] : e.InnerException;
            if (next is null)
            {
                return e;
            }

            e = next;
        }
    }

    private static string FirstLine(string text)
    {
        var first = StorageFailures.FirstLine(text);
        return first.EndsWith('.') ? first : first + ".";
    }
}
