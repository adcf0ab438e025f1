using Mage.Jobs.Coordination;
using Mage.Jobs.Options;

namespace Mage.Jobs.Storage;

/// <summary>
/// Where results live. Every path is a pure function of its inputs, so a retried message writes
/// to the same place. See docs/operations.md, "Results layout".
/// </summary>
public static class ResultsLayout
{
    /// <summary>
    /// Room kept beyond the longest path built today, for a file a later version adds, so that a name accepted today is not refused then.
    /// </summary>
    private static readonly PathSuffix Margin = new(16, 1);

    /// <summary>
    /// What the paths in an upload's folder (<see cref="UploadFolder"/>: its files, claim and
    /// records) add to the upload's name; <see cref="BlobNames.CheckBlobName"/> refuses
    /// a name whose paths would not fit Azure.
    /// </summary>
    internal static readonly PathSuffix UploadNameSuffix = FolderSuffix(
        name => UploadFolder(name, "etag", nameIsValid: true),
        UploadRecord, Error, Claim, UploadEmbedding, Tokens);

    /// <summary>
    /// What a request's paths (<see cref="RequestFolder"/> with the longest id, the last image of
    /// the largest generation, records) add to its output prefix.
    /// </summary>
    internal static readonly PathSuffix RequestPrefixSuffix = FolderSuffix(
        prefix => RequestFolder(prefix, new string('r', BlobNames.MaxIdLength)),
        RequestResult, Error, Tokens, f => RequestImage(f, Inference.MageDefaults.MaxGenerateCount - 1));

    /// <summary>
    /// What a job's paths (the part of the highest shard number, the manifest, the output claim) add
    /// to its output prefix.
    /// </summary>
    internal static readonly PathSuffix JobPrefixSuffix = FolderSuffix(
        prefix => prefix,
        p => JobPart(p, int.MaxValue), JobManifest, JobOutputClaim);

    /// <summary>
    /// Folder (in the results container) for one version of an upload:
    /// <c>uploads/{name}/{etag-hash}/</c>. Names that fail validation go under
    /// <c>uploads/_invalid/{name-hash}/{etag-hash}/</c> so a hostile name never becomes a path.
    /// </summary>
    public static string UploadFolder(string name, string etag, bool nameIsValid) =>
        nameIsValid
            ? $"{UploadsArea}{name}/{BlobNames.ShortHash(etag)}/"
            : $"{UploadsArea}_invalid/{BlobNames.ShortHash(name)}/{BlobNames.ShortHash(etag)}/";

    /// <summary>
    /// Null when a message may write its outputs under <paramref name="folder"/> of
    /// <paramref name="container"/>, else why not: the container must be one of
    /// <see cref="StorageSettings.Outputs"/>, and in the results container the upload results
    /// (<c>uploads/</c>) and every folder whose name starts with '_' (refusals) are the service's own.
    /// </summary>
    public static string? CheckOutput(StorageSettings storage, string container, string folder, string field)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(folder);
        if (storage.CheckOutput(container, $"{field}.container") is { } notAllowed)
        {
            return notAllowed;
        }

        return container == storage.ResultsContainer && (folder.StartsWith(UploadsArea, StringComparison.Ordinal) || folder.Split('/').Any(s => s.StartsWith('_')))
            ? $"{field} '{folder}' in '{container}' is the service's own area (the upload results under '{UploadsArea}' and folders starting with '_'); choose another prefix."
            : null;
    }

    /// <summary>The top folder of upload results in the results container.</summary>
    private const string UploadsArea = "uploads/";

    /// <summary>Job status document in the jobs container.</summary>
    public static string JobStatus(string jobId) => $"{JobsFolder}{jobId}/status.json";

    /// <summary>The folder of every job's documents in the jobs container: status, claims, shards, stripes.</summary>
    internal const string JobsFolder = "jobs/";

    /// <summary>The job id whose status document (<see cref="JobStatus"/>) <paramref name="name"/> is, or null when it is another blob.</summary>
    internal static string? JobIdOfStatus(string name)
    {
        const string suffix = "/status.json";
        if (!name.StartsWith(JobsFolder, StringComparison.Ordinal) || !name.EndsWith(suffix, StringComparison.Ordinal) || name.Length <= JobsFolder.Length + suffix.Length)
        {
            return null;
        }

        var jobId = name[JobsFolder.Length..^suffix.Length];
        return BlobNames.IsId(jobId) ? jobId : null;
    }

    /// <summary>
    /// The claim marker (see <see cref="WorkClaim"/>) of a job's listing and enqueuing, in the jobs
    /// container; present only while a delivery holds the claim.
    /// </summary>
    internal static string JobClaim(string jobId) => $"jobs/{jobId}/claim";

    /// <summary>The claim marker of a shard, in the jobs container; present only while a delivery embeds it.</summary>
    internal static string ShardClaim(string jobId, int shard) => $"jobs/{jobId}/claims/{shard:D6}";

    /// <summary>
    /// The claim marker of listing range <paramref name="range"/> of a job listed in ranges
    /// (<see cref="BulkJobs.ListRange"/>), in the jobs container; present only while a delivery lists it.
    /// </summary>
    internal static string JobRangeClaim(string jobId, int range) => $"jobs/{jobId}/claims/range-{range:D2}";

    /// <summary>The folder of a job's listing in ranges, in the jobs container: its folder list and page blobs, deleted as the job completes.</summary>
    internal static string JobListingFolder(string jobId) => $"jobs/{jobId}/listing/";

    /// <summary>The folder list of a job listed in ranges (<see cref="BulkJobs.ListFolder"/>), in the jobs container.</summary>
    internal static string JobListFolders(string jobId) => $"{JobListingFolder(jobId)}folders.json";

    /// <summary>
    /// The names of a page a listing range has read, in the jobs container: written before the page
    /// is committed (a name of its own per page, <paramref name="pageId"/>), so a delivery that dies
    /// after the commit leaves them for the next one; deleted once its shards are written and sent.
    /// </summary>
    internal static string JobListPage(string jobId, int range, string pageId) => $"{JobListingFolder(jobId)}pages/{range:D2}-{pageId}.json";

    /// <summary>
    /// The claim marker of a job's completion (writing its manifest, publishing its event), in the
    /// jobs container; present only while a delivery holds it.
    /// </summary>
    internal static string JobCompletionClaim(string jobId) => $"jobs/{jobId}/claims/completion";

    /// <summary>
    /// The claim marker of an upload version, in its folder of the results container's service-only
    /// upload area: <c>{folder}claim</c>, present only while a delivery holds the claim (requests
    /// claim in the jobs container: <see cref="RequestClaim"/>).
    /// </summary>
    internal static string Claim(string folder) => folder + "claim";

    /// <summary>
    /// The claim marker of an edit or generation request, in the jobs container: named by the hash
    /// of its output <c>container/folder</c>, so claiming writes nothing where the request writes.
    /// </summary>
    internal static string RequestClaim(string container, string folder) => $"claims/requests/{BlobNames.LongHash($"{container}/{folder}")}";

    /// <summary>
    /// Stripe <paramref name="stripe"/> of a job's shard counts (<see cref="JobStripe"/>), in
    /// the jobs container; present from its first count until it is folded into the status document.
    /// </summary>
    internal static string JobStripe(string jobId, int stripe) => $"jobs/{jobId}/stripes/{stripe:D3}";

    /// <summary>Folder of a job's stripes.</summary>
    internal static string JobStripesFolder(string jobId) => $"jobs/{jobId}/stripes/";

    /// <summary>A shard's list of blobs in the jobs container.</summary>
    public static string JobShard(string jobId, int shard) => $"jobs/{jobId}/shards/{shard:D6}.json";

    /// <summary>Folder of a job's shard lists.</summary>
    public static string JobShardsFolder(string jobId) => $"jobs/{jobId}/shards/";

    /// <summary>
    /// Who submitted an edit or generation over HTTP, in the jobs container:
    /// <c>api/requests/{edits|generations}/{requestId}.json</c> (created once; <c>Http.RequestApiRecord</c>).
    /// </summary>
    internal static string ApiRequest(string route, string requestId) => $"api/requests/{route}/{requestId}.json";

    /// <summary>
    /// A file an edit sent as <c>multipart/form-data</c> brought (<paramref name="part"/>: <c>image</c> or
    /// <c>mask</c>), in the uploads container: <c>api/{route}/{requestId}/{part}</c> (created once, by the
    /// caller the request's <see cref="ApiRequest"/> record names). Under 100 characters, far inside
    /// <see cref="BlobNames.CheckBlobName"/>'s caps with the upload results' folder added.
    /// </summary>
    internal static string ApiUpload(string route, string requestId, string part) => $"{ApiUploadsFolder}{route}/{requestId}/{part}";

    /// <summary>The uploads container's folder of images sent with multipart edits, each its sender's alone (<see cref="ApiUpload"/>).</summary>
    internal const string ApiUploadsFolder = "api/";

    /// <summary>A rejected job message that named no usable job id, by the hash of its body.</summary>
    public static string RejectedJob(string bodyHash) => $"rejected/{bodyHash}.json";

    /// <summary>The file name of a job's output claim.</summary>
    internal const string JobOutputClaimName = "job.json";

    /// <summary>A job's claim on its output prefix (<see cref="OutputClaims"/>): <c>{prefix}job.json</c>, carrying the job id.</summary>
    public static string JobOutputClaim(string outputPrefix) => BlobNames.AsFolder(outputPrefix) + JobOutputClaimName;

    /// <summary>A shard's Parquet part in the output container.</summary>
    public static string JobPart(string outputPrefix, int shard) => $"{BlobNames.AsFolder(outputPrefix)}out/part-{shard:D6}.parquet";

    /// <summary>Folder of a job's Parquet parts.</summary>
    public static string JobPartsFolder(string outputPrefix) => $"{BlobNames.AsFolder(outputPrefix)}out/";

    /// <summary>A job's manifest in the output container.</summary>
    public static string JobManifest(string outputPrefix) => $"{BlobNames.AsFolder(outputPrefix)}manifest.json";

    /// <summary>Folder of an edit or generation request's outputs.</summary>
    public static string RequestFolder(string outputPrefix, string requestId) => $"{BlobNames.AsFolder(outputPrefix)}{requestId}/";

    /// <summary>
    /// Folder of a request message that named no usable request id, by the hash of its body:
    /// <c>{defaultPrefix}_rejected/{hash}/</c>.
    /// </summary>
    public static string RejectedRequestFolder(string defaultPrefix, string bodyHash) => $"{BlobNames.AsFolder(defaultPrefix)}_rejected/{bodyHash}/";

    /// <summary>
    /// Folder (in the results container) of a request refused before anything could be written
    /// where it asked (an output it may not use, a missing output container, a folder that holds
    /// blobs it did not write): <c>{defaultPrefix}_refused/{requestId}/{hash}/</c>, by the hash of its body.
    /// </summary>
    public static string RefusedRequestFolder(string defaultPrefix, string requestId, string bodyHash) => $"{BlobNames.AsFolder(defaultPrefix)}_refused/{requestId}/{bodyHash}/";

    /// <summary>The record that commits a finished request (its existence marks the request done).</summary>
    public static string RequestResult(string folder) => folder + "result.json";

    /// <summary>The record of a refused request, or of an upload that could not be embedded.</summary>
    public static string Error(string folder) => folder + "error.json";

    /// <summary>Image <paramref name="index"/> of a request's outputs.</summary>
    public static string RequestImage(string folder, int index) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{folder}image-{index}.png");

    /// <summary>Token ids of a request or an upload (<see cref="Inference.Numpy.TokenFile"/>: int64).</summary>
    public static string Tokens(string folder) => folder + "tokens.npy";

    /// <summary>The record that commits an embedded upload.</summary>
    public static string UploadRecord(string folder) => folder + "record.json";

    /// <summary>
    /// The outbox of a record, in the jobs container: the event that announces it, written before
    /// the record and deleted once published, so a worker that dies in between leaves it for the
    /// next delivery. Named by the hash of the record's <c>container/name</c>; never in a container a caller can write to.
    /// </summary>
    internal static string Outbox(string recordContainer, string recordName) => $"outbox/{BlobNames.LongHash($"{recordContainer}/{recordName}")}.event.json";

    /// <summary>The feature of an embedded upload (float32 [D]).</summary>
    public static string UploadEmbedding(string folder) => folder + "embedding.npy";

    /// <summary>What the longest of <paramref name="files"/> in <paramref name="folderOf"/>'s folder adds to the name it is built from, with <see cref="Margin"/>.</summary>
    private static PathSuffix FolderSuffix(Func<string, string> folderOf, params Func<string, string>[] files)
    {
        const string name = "name";
        var folder = folderOf(name);
        return PathSuffix.Longest(name, Margin, files.Select(file => file(folder)));
    }
}
