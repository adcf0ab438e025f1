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
    /// The units to list, in name order; null when the prefix is to be listed as one range: fewer
    /// than two units, or more than <see cref="LimitSettings.MaxFolderListingPages"/> pages of
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
            await foreach (var page in source.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix, cancellationToken).AsPages(null, pageSize).ConfigureAwait(false))
            {
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

                if (++pages == LimitSettings.MaxFolderListingPages && !string.IsNullOrEmpty(page.ContinuationToken))
                {
                    return null;
                }
            }

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
