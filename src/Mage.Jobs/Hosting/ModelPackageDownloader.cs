using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Inference.Packages;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Hosting;

/// <summary>
/// Copies a model package from the models container into a local cache folder. A cached copy
/// that passes <see cref="ModelPackage.Load"/> with hash checks is reused; otherwise every file is
/// downloaded again. The caller then loads (and hash-checks) the folder.
/// </summary>
/// <remarks>Thread-safe for distinct prefixes; meant to run once at start-up.</remarks>
internal sealed partial class ModelPackageDownloader(BlobServiceClient blobs, IOptions<StorageSettings> storage, ILogger<ModelPackageDownloader> logger)
{
    /// <summary>Downloads the package under <paramref name="prefix"/> and returns the local folder.</summary>
    public async Task<string> DownloadAsync(string prefix, string? cacheRoot, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var folderPrefix = BlobNames.AsFolder(prefix);
        var root = string.IsNullOrWhiteSpace(cacheRoot) ? Path.Combine(Path.GetTempPath(), "mage-models") : cacheRoot;
        var folder = Path.Combine(root, BlobNames.ShortHash(storage.Value.ModelsContainer + "/" + folderPrefix));
        if (IsValidPackage(folder))
        {
            LogCached(logger, folder);
            return folder;
        }

        Directory.CreateDirectory(folder);
        var container = blobs.GetBlobContainerClient(storage.Value.ModelsContainer);
        var files = 0;
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, folderPrefix, cancellationToken).ConfigureAwait(false))
        {
            var relative = item.Name[folderPrefix.Length..];
            if (relative.Length == 0 || relative.Contains('/', StringComparison.Ordinal) || relative is "." or "..")
            {
                continue; // a package is flat; ignore anything in sub-folders
            }

            var target = Path.Combine(folder, relative);
            await container.GetBlobClient(item.Name).DownloadToAsync(target, cancellationToken).ConfigureAwait(false);
            files++;
        }

        if (files == 0)
        {
            throw new ModelPackageException($"No model package under '{folderPrefix}' in container '{storage.Value.ModelsContainer}'.");
        }

        LogDownloaded(logger, files, folderPrefix, folder);
        return folder;
    }

    private static bool IsValidPackage(string folder)
    {
        if (!File.Exists(Path.Combine(folder, "manifest.json")))
        {
            return false;
        }

        try
        {
            ModelPackage.Load(folder, verifyHashes: true);
            return true;
        }
        catch (ModelPackageException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Using the cached model package in {Folder}")]
    private static partial void LogCached(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Downloaded {Files} model package files from {Prefix} to {Folder}")]
    private static partial void LogDownloaded(ILogger logger, int files, string prefix, string folder);
}
