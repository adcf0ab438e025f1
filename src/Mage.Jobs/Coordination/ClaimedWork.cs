using Azure.Storage.Blobs.Models;
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

    /// <summary>
    /// Creates a data file next to the record, only if absent, and returns its <c>container/name</c>
    /// path. A file this unit wrote in an earlier delivery is kept as it is (its content is a pure
    /// function of the message); a blob anyone else wrote is never overwritten.
    /// </summary>
    /// <exception cref="OutputInUseException">A blob of that name exists that this unit did not write.</exception>
    public async Task<string> WriteAsync(string name, BinaryData content, string contentType, CancellationToken cancellationToken)
    {
        var blob = unit.Record.GetParentBlobContainerClient().GetBlobClient(name);
        var path = $"{blob.BlobContainerName}/{blob.Name}";
        if (!await BlobWrites.TryCreateAsync(blob, content, contentType, unit.OwnerMetadata, cancellationToken).ConfigureAwait(false)
            && !unit.Owns((await BlobWrites.TryGetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false))?.Metadata))
        {
            throw new OutputInUseException($"{path} already exists and {unit.Description} did not write it; nothing is overwritten.");
        }

        return path;
    }

    /// <summary>
    /// The first blob under <paramref name="folder"/> (of the record's container) that this unit did
    /// not write, as <c>container/name</c>, or null when there is none: work whose folder holds
    /// someone else's blobs is refused before it writes anything.
    /// </summary>
    public async Task<string?> FindForeignAsync(string folder, CancellationToken cancellationToken)
    {
        var container = unit.Record.GetParentBlobContainerClient();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, folder, cancellationToken).ConfigureAwait(false))
        {
            if (!unit.Owns(item.Metadata))
            {
                return $"{container.Name}/{item.Name}";
            }
        }

        return null;
    }

    /// <summary>Commits the record and announces it (<see cref="WorkCommits.CommitRecordAsync"/>); true when this call committed.</summary>
    public Task<bool> CompleteAsync<T>(T record, MageEventDraft announce, CancellationToken cancellationToken) =>
        commits.CommitRecordAsync(unit.Record, record, announce, cancellationToken, unit.OwnerMetadata);

    /// <summary>Commits the error record and announces it; true when this call committed.</summary>
    public Task<bool> FailAsync<T>(T record, MageEventDraft announce, CancellationToken cancellationToken) =>
        commits.CommitRecordAsync(unit.Error ?? throw new InvalidOperationException($"{unit.Description} has no error record."), record, announce, cancellationToken, unit.OwnerMetadata);

    /// <summary>Notes how far the work has got on its claim, for status readers (<see cref="WorkClaim.NoteProgress"/>).</summary>
    public void NoteProgress(int done, int total) => claim.NoteProgress(done, total);

    public ValueTask DisposeAsync() => claim.DisposeAsync();
}
