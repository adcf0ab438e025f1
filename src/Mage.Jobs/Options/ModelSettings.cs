using System.ComponentModel.DataAnnotations;

namespace Mage.Jobs.Options;

/// <summary>
/// Where the model package comes from and how it runs (configuration section <c>Mage:Model</c>).
/// Exactly one of <see cref="PackagePath"/> and <see cref="BlobPrefix"/> is set.
/// </summary>
public sealed class ModelSettings : IValidatableObject
{
    public const string Section = "Mage:Model";

    /// <summary>A local package folder (baked into the image or mounted).</summary>
    public string? PackagePath { get; set; }

    /// <summary>A folder in the models container; downloaded once at cold start into <see cref="CacheFolder"/>.</summary>
    public string? BlobPrefix { get; set; }

    /// <summary>Where a downloaded package is kept; a temp folder by default.</summary>
    public string? CacheFolder { get; set; }

    /// <summary><c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    [Required]
    [RegularExpression("^(auto|cpu|cuda(:[0-9]{1,2})?)$", ErrorMessage = "Mage:Model:Device must be auto, cpu, cuda or cuda:N.")]
    public string Device { get; set; } = "auto";

    /// <summary>ONNX Runtime threads per graph run on the CPU; 0 = one per physical core.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary><c>Exact</c> (default), <c>PyTorch</c> or <c>Fast</c>: how much precision CUDA may trade for speed (see <see cref="Inference.Runtime.MageModelOptions.Precision"/>).</summary>
    public Inference.Runtime.PrecisionMode Precision { get; set; } = Inference.Runtime.MageModelOptions.DefaultPrecision;

    /// <summary>cuDNN's convolution algorithm search on CUDA (see <see cref="Inference.Runtime.MageModelOptions.ConvAlgorithmSearch"/>).</summary>
    public Inference.Runtime.ConvAlgorithmSearch ConvAlgorithmSearch { get; set; }

    /// <summary>Batch sizes graph runs are padded up to: <c>auto</c>, <c>none</c> or a comma list (see <see cref="Inference.Runtime.MageModelOptions.BatchBuckets"/>).</summary>
    [Required]
    [RegularExpression(Inference.Runtime.MageModelOptions.BatchBucketsPattern, ErrorMessage = "Mage:Model:" + Inference.Runtime.MageModelOptions.BatchBucketsMessage)]
    public string BatchBuckets { get; set; } = Inference.Runtime.MageModelOptions.DefaultBatchBuckets;

    /// <summary>Run every graph at every bucket size at start-up; unset = on CUDA only (see <see cref="Inference.Runtime.MageModelOptions.WarmUp"/>).</summary>
    public bool? WarmUp { get; set; }

    /// <summary>Rows per transformer call: 0 = auto (16 on CUDA), -1 = natural batches, 1..1024 (see <see cref="Inference.Runtime.MageModelOptions.FixedTransformerBatch"/>).</summary>
    [Range(-1, 1024)]
    public int FixedTransformerBatch { get; set; }

    /// <summary>ONNX Runtime's memory pattern on the CPU; off by default (see <see cref="Inference.Runtime.MageModelOptions.MemoryPattern"/>).</summary>
    public bool MemoryPattern { get; set; } = Inference.Runtime.MageModelOptions.DefaultMemoryPattern;

    /// <summary>Whether ONNX Runtime's CPU threads spin while waiting; on by default (see <see cref="Inference.Runtime.MageModelOptions.AllowSpinning"/>).</summary>
    public bool AllowSpinning { get; set; } = Inference.Runtime.MageModelOptions.DefaultAllowSpinning;

    /// <summary>Where the decoding schedule runs: <c>Auto</c> (on the GPU when on CUDA), <c>Host</c> or <c>Device</c>.</summary>
    public Inference.Decoding.DecodeLoop DecodeLoop { get; set; } = Inference.Decoding.DecodeLoop.Auto;

    /// <summary>The engine's model options for the package in <paramref name="folder"/>: the one mapping of these settings.</summary>
    public Inference.Runtime.MageModelOptions ToModelOptions(string folder) => new()
    {
        PackagePath = folder,
        Device = Device,
        IntraOpThreads = IntraOpThreads,
        Precision = Precision,
        ConvAlgorithmSearch = ConvAlgorithmSearch,
        BatchBuckets = BatchBuckets,
        WarmUp = WarmUp,
        FixedTransformerBatch = FixedTransformerBatch,
        MemoryPattern = MemoryPattern,
        AllowSpinning = AllowSpinning,
    };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var hasPath = !string.IsNullOrWhiteSpace(PackagePath);
        var hasPrefix = !string.IsNullOrWhiteSpace(BlobPrefix);
        if (hasPath == hasPrefix)
        {
            yield return new ValidationResult(
                "Set exactly one of Mage:Model:PackagePath (a local package folder) and Mage:Model:BlobPrefix (a folder in the models container).",
                [nameof(PackagePath), nameof(BlobPrefix)]);
        }

        if (hasPrefix && (BlobPrefix!.Contains("..", StringComparison.Ordinal) || BlobPrefix.StartsWith('/')))
        {
            yield return new ValidationResult($"Mage:Model:BlobPrefix '{BlobPrefix}' must be a relative folder without '..'.", [nameof(BlobPrefix)]);
        }
    }
}
