using System.Diagnostics;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Mage.Jobs.Coordination;
using Mage.Jobs.Tests.Infrastructure;

namespace Mage.Jobs.Tests.Coordination;

/// <summary>
/// <see cref="WorkClaim"/> against real blob leases: a live claimer keeps its claim past one lease
/// by renewing it, a claimer that dies loses it within one lease, and releasing frees it at once.
/// The two lease scenarios run side by side, so the test waits about one lease in all.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkClaimTests(AzuriteFixture azurite)
{
    private readonly BlobContainerClient container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("claims-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task A_renewed_claim_outlives_its_lease_and_a_dead_claimers_lapses_within_one()
    {
        await container.CreateAsync();
        await Task.WhenAll(RenewedClaimIsKeptAsync(), DeadClaimLapsesAsync());
    }

    [Fact]
    public async Task A_released_claim_is_free_at_once_and_its_marker_is_gone()
    {
        await container.CreateAsync();
        var marker = container.GetBlobClient("released/claim");
        var first = await WorkClaim.TryAcquireAsync(marker, default);
        Assert.NotNull(first);
        Assert.Null(await WorkClaim.TryAcquireAsync(marker, default));

        await first.DisposeAsync();

        Assert.False((await marker.ExistsAsync()).Value);
        await using var second = await WorkClaim.TryAcquireAsync(marker, default);
        Assert.NotNull(second);
    }

    private async Task RenewedClaimIsKeptAsync()
    {
        var marker = container.GetBlobClient("renewed/claim");
        await using var holder = await WorkClaim.TryAcquireAsync(marker, default);
        Assert.NotNull(holder);

        // Past the lease: without renewals the claim would have lapsed and the copy would take it.
        await Task.Delay(WorkClaim.LeaseDuration + TimeSpan.FromSeconds(2));

        Assert.Null(await WorkClaim.TryAcquireAsync(marker, default));
    }

    private async Task DeadClaimLapsesAsync()
    {
        // A claimer that died: the marker and a lease of the claim's length, never renewed.
        var marker = container.GetBlobClient("dead/claim");
        await marker.UploadAsync(BinaryData.Empty);
        await marker.GetBlobLeaseClient().AcquireAsync(WorkClaim.LeaseDuration);
        var died = Stopwatch.StartNew();
        Assert.Null(await WorkClaim.TryAcquireAsync(marker, default));

        WorkClaim? taken = null;
        while (taken is null)
        {
            Assert.True(died.Elapsed < WorkClaim.LeaseDuration + TimeSpan.FromSeconds(10), $"the dead claimer's claim was not free {died.Elapsed.TotalSeconds:F0} s after it died");
            await Task.Delay(500);
            taken = await WorkClaim.TryAcquireAsync(marker, default);
        }

        await taken.DisposeAsync();
        Assert.True(died.Elapsed > WorkClaim.LeaseDuration - TimeSpan.FromSeconds(2), $"taken after {died.Elapsed.TotalSeconds:F1} s, before the lease could lapse");
    }
}
