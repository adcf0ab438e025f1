using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Mage.Inference.Runtime;

/// <summary>How to load a model package. Bind from configuration and validate at start-up.</summary>
public sealed class MageModelOptions
{
    /// <summary>The model package folder.</summary>
    [Required]
    public string PackagePath { get; set; } = "";

    /// <summary>
    /// <c>auto</c> (CUDA when the CUDA provider and a GPU are present, else CPU), <c>cpu</c>,
    /// <c>cuda</c> or <c>cuda:N</c> (device N; falls back to CPU with a warning when CUDA cannot start).
    /// </summary>
    [Required]
    [RegularExpression("^(auto|cpu|cuda(:[0-9]{1,2})?)$", ErrorMessage = "Device must be auto, cpu, cuda or cuda:N.")]
    public string Device { get; set; } = "auto";

    /// <summary>Threads per graph run on the CPU; 0 lets ONNX Runtime use one per physical core.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Whether ONNX Runtime's CPU worker threads spin while they wait for work (its default) instead
    /// of sleeping at once. Spinning saves a wake-up between the many small operators of a graph; it
    /// burns cores that other sessions or processes on the same machine could use
    /// (docs/benchmarks.md, Int8 on the CPU: thread and session settings).
    /// </summary>
    public bool AllowSpinning { get; set; } = DefaultAllowSpinning;

    /// <summary>The default of <see cref="AllowSpinning"/>: ONNX Runtime's own.</summary>
    public const bool DefaultAllowSpinning = true;

    /// <summary>Check the SHA-256 of every package file at load (reads the whole package once).</summary>
    public bool VerifyHashes { get; set; } = true;

    /// <summary>
    /// How much precision CUDA may trade for speed: <see cref="PrecisionMode.Exact"/> (the
    /// default), <see cref="PrecisionMode.PyTorch"/> or <see cref="PrecisionMode.Fast"/>.
    /// <see cref="GraphPrecision"/> turns it into each graph's session options; the CPU computes in
    /// float32 in every mode.
    /// </summary>
    public PrecisionMode Precision { get; set; } = DefaultPrecision;

    /// <summary>
    /// The default of <see cref="Precision"/>: exact, until a GPU run has measured the other modes
    /// against PyTorch (docs/benchmarks.md, GPU).
    /// </summary>
    public const PrecisionMode DefaultPrecision = PrecisionMode.Exact;

    /// <summary>How cuDNN chooses convolution algorithms on CUDA (ONNX Runtime's default: exhaustive).</summary>
    public ConvAlgorithmSearch ConvAlgorithmSearch { get; set; } = ConvAlgorithmSearch.Exhaustive;

    /// <summary>
    /// Batch sizes that graph runs are padded up to: <c>auto</c> (1, 2, 4, ... 64 on CUDA; natural
    /// batches on the CPU, whose kernels do not depend on the shape), <c>none</c>, or a comma list
    /// such as <c>8,64</c>. Larger calls are cut into runs of the largest size. The tokenizer, the
    /// encoder's features and the detokenizer always follow it; transformer calls of the decoding
    /// schedule follow it unless <see cref="FixedTransformerBatch"/> fixes their size.
    /// </summary>
    [Required]
    [RegularExpression(BatchBucketsPattern, ErrorMessage = BatchBucketsMessage)]
    public string BatchBuckets { get; set; } = DefaultBatchBuckets;

    /// <summary>The default of <see cref="BatchBuckets"/>.</summary>
    public const string DefaultBatchBuckets = "auto";

    /// <summary>The syntax of <see cref="BatchBuckets"/> (sizes are checked against 1..1024 at load).</summary>
    public const string BatchBucketsPattern = "^(auto|none|[0-9]{1,4}( *, *[0-9]{1,4}){0,15})$";

    /// <summary>The message of a <see cref="BatchBuckets"/> value that does not match <see cref="BatchBucketsPattern"/>.</summary>
    public const string BatchBucketsMessage = "BatchBuckets must be auto, none or a comma list of up to 16 sizes such as 8,64.";

    /// <summary>
    /// Run every graph once at every bucket size while loading, so cuDNN's algorithm search and
    /// ONNX Runtime's allocations happen before the first request. Null (the default) warms up on
    /// CUDA only.
    /// </summary>
    public bool? WarmUp { get; set; }

    /// <summary>
    /// Rows per transformer call. GPU kernels choose their arithmetic by shape, so a row's logits
    /// can change in the last bits with the number of rows beside it, and a sampled image with
    /// them. A fixed size (the last call padded) keeps image i of seed s the same alone or in a
    /// batch of 64. 0 = auto: in the exact mode 16 on CUDA and natural batches on the CPU (already
    /// batch-independent), in the other modes <see cref="BatchBuckets"/>; -1 = always natural
    /// batches; 1..1024 = that many rows.
    /// </summary>
    [Range(-1, 1024)]
    public int FixedTransformerBatch { get; set; }

    /// <summary>
    /// Whether CPU sessions plan each run's activations as one block per input shape (ONNX
    /// Runtime's memory pattern). Off by default: batch sizes here vary from run to run, and each
    /// new shape took a new block from the session's arena, which grows in powers of two and never
    /// shrinks; off, a worker's peak RSS fell by a third and it ran no slower (docs/benchmarks.md,
    /// Memory). CUDA sessions keep ONNX Runtime's default.
    /// </summary>
    public bool MemoryPattern { get; set; } = DefaultMemoryPattern;

    /// <summary>The default of <see cref="MemoryPattern"/>, for hosts that bind their own settings.</summary>
    public const bool DefaultMemoryPattern = false;

    /// <summary>Write an ONNX Runtime profile (JSON) with this file name prefix; null for none.</summary>
    public string? ProfilePrefix { get; set; }

    internal (bool Cuda, int DeviceId, bool Explicit) ParseDevice()
    {
        var d = Device.Trim().ToLowerInvariant();
        return d switch
        {
            "auto" => (true, 0, false),
            "cpu" => (false, 0, true),
            "cuda" => (true, 0, true),
            _ when d.StartsWith("cuda:", StringComparison.Ordinal)
                   && int.TryParse(d.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var id) => (true, id, true),
            _ => throw new InvalidRequestException($"Device '{Device}' is not one of auto, cpu, cuda, cuda:N."),
        };
    }
}
