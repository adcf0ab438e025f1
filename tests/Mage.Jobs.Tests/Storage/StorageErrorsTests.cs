using Azure;
using Azure.Identity;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Tests.Storage;

/// <summary>Every storage failure is worded naming the resource, the account and what would fix it.</summary>
public sealed class StorageErrorsTests
{
    private static readonly StorageResource Jobs = new(false, "jobs", "acct", new Uri("https://acct.blob.core.windows.net/jobs"));
    private static readonly StorageResource JobsQueue = new(true, "mage-jobs", "acct", new Uri("https://acct.queue.core.windows.net/mage-jobs"));
    private static readonly RequestFailedException Forbidden = new(403, "This request is not authorized to perform this operation using this permission.", "AuthorizationPermissionMismatch", null);

    [Fact]
    public void A_forbidden_create_names_the_resource_the_account_and_the_contributor_role()
    {
        Assert.Equal(
            "cannot create container 'jobs' in storage account 'acct' (403 AuthorizationPermissionMismatch): the app's identity needs the Storage Blob Data Contributor role " +
            "on the account to create it. Or create it beforehand (infra/bicep creates every container and queue) and set Mage__Storage__CreateMissing=false, " +
            "so that start-up only checks that it exists.",
            StorageErrors.Explain(Jobs, Forbidden, creating: true));
        Assert.Contains("cannot create queue 'mage-jobs' in storage account 'acct'", StorageErrors.Explain(JobsQueue, Forbidden, creating: true), StringComparison.Ordinal);
        Assert.Contains("Storage Queue Data Contributor role", StorageErrors.Explain(JobsQueue, Forbidden, creating: true), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "OutOfRangeInput", true)]
    [InlineData(400, "InvalidUri", true)]
    [InlineData(403, "AuthorizationPermissionMismatch", true)]
    [InlineData(409, "BlobArchived", true)]
    [InlineData(408, "OperationTimedOut", false)]
    [InlineData(429, "TooManyRequests", false)]
    [InlineData(500, "InternalError", false)]
    [InlineData(503, "ServerBusy", false)]
    public void A_4xx_but_408_and_429_is_a_refusal_never_an_outage(int status, string code, bool refused)
    {
        var e = new RequestFailedException(status, "answer", code, null);

        Assert.Equal(refused, StorageFailures.IsRefused(e));
        Assert.Equal(!refused, StorageFailures.IsUnavailable(e));
    }

    [Fact]
    public void A_refused_read_names_the_source_the_status_and_the_code_only()
    {
        Assert.Equal("image photos/a.png cannot be read: storage answered 403 AuthorizationPermissionMismatch.", StorageErrors.ReadRefused("image photos/a.png", Forbidden));
    }

    [Fact]
    public void A_forbidden_check_names_the_reader_role()
    {
        var message = StorageErrors.Explain(JobsQueue, Forbidden, creating: false);
        Assert.StartsWith("cannot use queue 'mage-jobs' in storage account 'acct' (403 AuthorizationPermissionMismatch)", message, StringComparison.Ordinal);
        Assert.Contains("at least the Storage Queue Data Reader role", message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_answer_after_retries_names_the_endpoint_and_the_socket_error()
    {
        // What Azure.Core's retry policy throws once a refused connection has been tried four times.
        var refused = new RequestFailedException("Connection refused (acct.blob.core.windows.net:443)", new HttpRequestException("Connection refused (acct.blob.core.windows.net:443)"));
        var retried = new AggregateException("Retry failed after 4 tries.", refused, refused, refused, refused);

        Assert.True(StorageFailures.IsStorageFailure(retried));
        Assert.StartsWith(
            "cannot reach storage account 'acct' at https://acct.blob.core.windows.net (for container 'jobs'): Connection refused (acct.blob.core.windows.net:443). Check the MageStorage setting",
            StorageErrors.Explain(Jobs, retried, creating: true),
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_credential_without_a_token_names_the_identity_settings()
    {
        var message = StorageErrors.Explain(Jobs, new CredentialUnavailableException("ManagedIdentityCredential authentication unavailable.\nMore text."), creating: true);
        Assert.Equal(
            "cannot get a token for storage account 'acct' (for container 'jobs'): ManagedIdentityCredential authentication unavailable. " +
            "Check MageStorage__credential and MageStorage__clientId, and that the identity is assigned to the app.",
            message);
    }

    [Fact]
    public void Missing_with_creation_off_and_a_timeout_name_the_fix()
    {
        Assert.Equal(
            "queue 'mage-jobs' in storage account 'acct' does not exist, and Mage__Storage__CreateMissing is false so the app does not create it: " +
            "create it (infra/bicep creates every container and queue) or set Mage__Storage__CreateMissing=true.",
            StorageErrors.Missing(JobsQueue));
        Assert.Equal(
            "storage account 'acct' at https://acct.blob.core.windows.net did not answer within 30 s (checking container 'jobs'): check the MageStorage setting and the network.",
            StorageErrors.TimedOut(Jobs, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Bugs_are_not_storage_failures()
    {
        Assert.False(StorageFailures.IsStorageFailure(new InvalidOperationException("bug")));
        Assert.False(StorageFailures.IsStorageFailure(new AggregateException(new RequestFailedException("x"), new InvalidOperationException("bug"))));
    }

    [Fact]
    public void Creating_missing_resources_is_on_by_default() => Assert.True(new StorageSettings().CreateMissing);
}
