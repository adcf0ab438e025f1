using Azure.Storage.Blobs;

namespace Mage.Jobs.Coordination;

/// <summary>
/// One unit of work as the commit protocol sees it (<see cref="WorkCommits"/>): the record whose
/// existence marks it done, the error record that marks it refused (if it can have one), the claim
/// marker that one delivery at a time holds while it works, and how claims and logs name it.
/// </summary>
/// <param name="Record">The record that commits the work (result.json, record.json, a manifest).</param>
/// <param name="Error">The record that commits a refusal (error.json), or null when the work has none.</param>
/// <param name="Claim">The marker blob of the work's claim (<see cref="WorkClaim"/>).</param>
/// <param name="Description">The work in words, for the busy-claim message ("Upload uploads/cat.jpg (etag …)").</param>
internal sealed record WorkUnit(BlobClient Record, BlobClient? Error, BlobClient Claim, string Description)
{
    /// <summary>The records that mark the work finished, the result first.</summary>
    public IEnumerable<BlobClient> Records => Error is null ? [Record] : [Record, Error];
}
