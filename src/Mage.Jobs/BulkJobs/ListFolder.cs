namespace Mage.Jobs.BulkJobs;

/// <summary>
/// One unit of a job's source that a listing range lists (<see cref="ListRange.Folder"/>): a
/// virtual folder with everything under it, or (<see cref="Recursive"/> false) the blobs directly
/// under the job's prefix, outside its folders. Kept in the job's folder list
/// (<see cref="Storage.ResultsLayout.JobListFolders"/>), written before the ranges are committed.
/// </summary>
/// <param name="Prefix">The folder, ending in '/' (or the job's prefix itself).</param>
/// <param name="Recursive">Whether every blob under <paramref name="Prefix"/> belongs to it, or only those outside its folders.</param>
internal sealed record ListFolder(string Prefix, bool Recursive);
