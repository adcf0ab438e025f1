using Azure.Storage.Blobs.Specialized;
using Mage.Jobs.Events;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Coordination;

/// <summary>
/// A unit of work held by this delivery (<see cref="WorkCommits.ClaimAsync"/>): write its data
/// files, then commit its record or its error record exactly once; disposing frees the claim.
/// </summary>
/// <remarks>One owner: the delivery that claimed it; dispose it exactly once.</remarks>
internal sealed class ClaimedWork(WorkCommits commits, WorkUnit unit, WorkClaim claim) : IAsyncDisposable
{
    /// <summary>The unit this delivery holds.</summary>
    public WorkUnit Unit => unit;

    /// <summary>Writes a data file next to the record and returns its <c>container/name</c> path.</summary>
    public async Task<string> WriteAsync(string name, BinaryData content, string contentType, CancellationToken cancellationToken)
    {
        var blob = unit.Record.GetParentBlobContainerClient().GetBlobClient(name);
        await BlobWrites.WriteAsync(blob, content, contentType, cancellationToken).ConfigureAwait(false);
        return $"{blob.BlobContainerName}/{blob.Name}";
    }

    /// <summary>Commits the record and announces it (<see cref="WorkCommits.CommitRecordAsync"/>); true when this call committed.</summary>
    public Task<bool> CompleteAsync<T>(T record, MageEventDraft announce, CancellationToken cancellationToken) =>
        commits.CommitRecordAsync(unit.Record, record, announce, cancellationToken);

    /// <summary>Commits the error record and announces it; true when this call committed.</summary>
    public Task<bool> FailAsync<T>(T record, MageEventDraft announce, CancellationToken cancellationToken) =>
        commits.CommitRecordAsync(unit.Error ?? throw new InvalidOperationException($"{unit.Description} has no error record."), record, announce, cancellationToken);

    public ValueTask DisposeAsync() => claim.DisposeAsync();
}
