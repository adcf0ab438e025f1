using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.Options;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// Finds the virtual folders a job's prefix can be listed in, one range each at a time
/// (<see cref="LimitSettings.ListRanges"/>): one delimiter listing of the prefix's top level. Its
/// folders each list everything under them, and the blobs outside them (if any) make one more unit.
/// A prefix that holds a single folder and nothing else is looked into instead (a few levels).
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class SourceFolders
{
    /// <summary>Levels a prefix of a single folder is looked into.</summary>
    private const int MaxDepth = 4;

    /// <summary>
    /// Entries of the first page read. A flat prefix (blobs only, the common case of a single
    /// range) is known after this one short page, so it delays the job's first shard by one small
    /// request instead of pages of thousands of names.
    /// </summary>
    private const int FirstPageEntries = 1000;

    /// <summary>
    /// The units to list, in name order; null when the prefix is to be listed as one range: fewer
    /// than two units, a first page (<see cref="FirstPageEntries"/>) of blobs alone with more to
    /// come (a flat prefix), or more than <see cref="LimitSettings.MaxFolderListingPages"/> pages of
    /// <paramref name="pageSize"/> entries at its top level. Folders that only hold blobs no job
    /// may read (<see cref="StorageSettings.IsPrivateUpload"/>) are left out.
    /// </summary>
    public static async Task<List<ListFolder>?> FindAsync(BlobContainerClient source, string prefix, int pageSize, StorageSettings storage, CancellationToken cancellationToken)
    {
        for (var depth = 0; depth < MaxDepth; depth++)
        {
            var folders = new List<ListFolder>();
            var loose = false;
            var pages = 0;
            string? cursor = null;
            do
            {
                var page = await source.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix, cancellationToken)
                    .AsPages(cursor, pages == 0 ? Math.Min(FirstPageEntries, pageSize) : pageSize).FirstAsync(cancellationToken).ConfigureAwait(false);
                cursor = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
                foreach (var item in page.Values)
                {
                    if (item.IsPrefix)
                    {
                        if (!storage.IsPrivateUpload(source.Name, item.Prefix))
                        {
                            folders.Add(new ListFolder(item.Prefix, Recursive: true));
                        }
                    }
                    else
                    {
                        loose |= !storage.IsPrivateUpload(source.Name, item.Blob.Name);
                    }
                }

                if (cursor is not null && (++pages == LimitSettings.MaxFolderListingPages || (pages == 1 && folders.Count == 0)))
                {
                    return null;
                }
            }
            while (cursor is not null);

            if (folders.Count == 1 && !loose)
            {
                prefix = folders[0].Prefix;
                continue;
            }

            List<ListFolder> units = loose ? [new ListFolder(prefix, Recursive: false), .. folders] : folders;
            return units.Count >= 2 ? units : null;
        }

        return null;
    }
}
