using System.ComponentModel.DataAnnotations;
using Mage.Inference;
using Mage.Inference.Imaging;

namespace Mage.Jobs.Options;

/// <summary>
/// Caps on untrusted input (configuration section <c>Mage:Limits</c>). See docs/operations.md for the reasoning.
/// The schedule limits are not settings: they are <see cref="MageDefaults.MaxSteps"/> and <see cref="MageDefaults.MaxTemperature"/> everywhere.
/// </summary>
public sealed class LimitSettings
{
    public const string Section = "Mage:Limits";

    /// <summary>Largest image blob, in bytes; checked on the blob's properties before downloading.</summary>
    [Range(1, int.MaxValue - 1)]
    public long MaxImageBytes { get; set; } = ImageLimits.DefaultMaxBytes;

    /// <summary>Largest decoded image, width * height.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImagePixels { get; set; } = ImageLimits.DefaultMaxPixels;

    /// <summary>Whether a JPEG cut short (no end-of-image marker) is decoded anyway, its missing part
    /// made up; off by default, so such an upload fails as corrupt (<see cref="ImageLimits.AllowTruncatedJpeg"/>).</summary>
    public bool AllowTruncatedJpeg { get; set; }

    /// <summary>Most images one bulk job may cover.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImagesPerJob { get; set; } = 10_000_000;

    /// <summary>Largest shard (images per shard message).</summary>
    [Range(1, 4096)]
    public int MaxShardSize { get; set; } = 256;

    /// <summary>Images per shard when a job does not say (capped by <see cref="MaxShardSize"/>).</summary>
    public const int DefaultShardSize = 256;

    /// <summary>Most images one generation request may ask for (the engine's own cap is <see cref="MageDefaults.MaxGenerateCount"/>).</summary>
    [Range(1, MageDefaults.MaxGenerateCount)]
    public int MaxGenerateCount { get; set; } = 64;

    /// <summary>Largest outpainting margin on any side, in pixels.</summary>
    [Range(1, MageDefaults.MaxOutpaintMargin)]
    public int MaxOutpaintMargin { get; set; } = 1024;

    /// <summary>Longest blob name accepted, in characters (Azure allows 1024).</summary>
    [Range(1, 1024)]
    public int MaxBlobNameLength { get; set; } = 1024;

    /// <summary>Images a shard embeds at once; lets the engine's batchers fill a batch.</summary>
    [Range(1, 256)]
    public int ShardConcurrency { get; set; } = 16;

    /// <summary>
    /// Longest an HTTP request (submit a job, read its status) waits for storage before it answers
    /// 503, in seconds; the Functions host itself cuts HTTP requests at 230 s.
    /// </summary>
    [Range(1, 230)]
    public int ApiTimeoutSeconds { get; set; } = 30;

    /// <summary>Blobs per listing page when a job enumerates its source.</summary>
    [Range(1, 5000)]
    public int ListPageSize { get; set; } = 5000;

    /// <summary>
    /// Listing pages one delivery of a job message reads before it sends the message again to go
    /// on: each page's shards are enqueued as soon as it is committed, so this bounds how long one
    /// delivery runs (20 pages of 5,000 names: seconds on Azure, about 40 s on Azurite), never when
    /// shards start.
    /// </summary>
    [Range(1, 1000)]
    public int ListPagesPerMessage { get; set; } = 20;

    /// <summary>
    /// Listing ranges of a job over a prefix whose blobs lie in virtual folders: the folders are
    /// found with one delimiter listing and shared out to this many ranges, each listed by its own
    /// deliveries at the same time (a range takes the next folder when one ends). 1 (the default)
    /// lists every job as one range; so does a prefix with fewer than two folders, or too many
    /// entries at its top level to find them in <see cref="MaxFolderListingPages"/> pages. Blob
    /// lists and explicit names are always one range. Off by default: on Azurite, where each list
    /// request costs time in proportion to the container, ranges listed 100,000 blobs in 100 folders
    /// more slowly than one range (bench/results/2026-12-08-listing-ranges); that they list faster
    /// on Azure is assumed, not measured.
    /// </summary>
    [Range(1, MaxListRanges)]
    public int ListRanges { get; set; } = 1;

    /// <summary>Most listing ranges of one job (<see cref="ListRanges"/>).</summary>
    public const int MaxListRanges = 64;

    /// <summary>
    /// Pages of <see cref="ListPageSize"/> entries a job reads to find the virtual folders of its
    /// prefix (<see cref="ListRanges"/>): up to 20,000 folders at the default page size. A prefix
    /// with more entries than that at its top level is listed as one range.
    /// </summary>
    public const int MaxFolderListingPages = 4;

    /// <summary>The image limits of these settings, as the engine applies them when it decodes.</summary>
    public ImageLimits ToImageLimits() => new()
    {
        MaxBytes = MaxImageBytes,
        MaxPixels = MaxImagePixels,
        AllowTruncatedJpeg = AllowTruncatedJpeg,
    };
}
