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
/// <param name="Owner">
/// Who writes the unit's files (<c>request:{hash of the message}</c>, <c>job:{id}</c>, …): stored as
/// <see cref="OwnerKey"/> metadata on every file and record it writes, so a redelivery recognises
/// its own files and no unit ever takes another's.
/// </param>
internal sealed record WorkUnit(BlobClient Record, BlobClient? Error, BlobClient Claim, string Description, string Owner)
{
    /// <summary>The metadata key of <see cref="Owner"/> on the blobs the service writes.</summary>
    public const string OwnerKey = "mageowner";

    /// <summary>The metadata that marks a blob as written by this unit.</summary>
    public Dictionary<string, string> OwnerMetadata => new(StringComparer.Ordinal) { [OwnerKey] = Owner };

    /// <summary>Whether blob metadata says this unit wrote the blob.</summary>
    public bool Owns(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue(OwnerKey, out var owner) && owner == Owner;

    /// <summary>The records that mark the work finished, the result first.</summary>
    public IEnumerable<BlobClient> Records => Error is null ? [Record] : [Record, Error];
}
