using Mage.Inference.Batching;
using Mage.Inference.Decoding;
using Mage.Inference.Imaging;

namespace Mage.Inference.Engine;

/// <summary>Limits and batching of a <see cref="MageEngine"/>.</summary>
public sealed record MageEngineOptions
{
    /// <summary>Caps on untrusted images.</summary>
    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    /// <summary>Batching of the tokenizer (one request = one 256x256 image).</summary>
    public BatcherOptions Tokenize { get; init; } = new() { Name = "tokenize", MaxBatchSize = 16 };

    /// <summary>Batching of feature extraction (one request = one token grid).</summary>
    public BatcherOptions Features { get; init; } = new() { Name = "features", MaxBatchSize = 64 };

    /// <summary>Batching of generation and editing steps (one request = one row of one step).</summary>
    public BatcherOptions Logits { get; init; } = new() { Name = "logits", MaxBatchSize = 32 };

    /// <summary>Where the decoding schedule of generation and editing runs between model calls.</summary>
    public DecodeLoop Loop { get; init; } = DecodeLoop.Auto;

    /// <summary>
    /// Batching of whole decodes when the schedule runs on the device (one request = one row of a
    /// generation or an edit; rows with the same steps, temperature and mode share every step).
    /// </summary>
    /// <remarks>Two decodes may run at once, so requests that just missed a running decode need not wait for all of its steps.</remarks>
    public BatcherOptions Decode { get; init; } = new() { Name = "decode", MaxBatchSize = 64, MaxConcurrentBatches = 2 };

    /// <summary>Largest batch of the detokenizer; rows of concurrent requests share a batch, and one batch runs at a time.</summary>
    public int DetokenizeBatch { get; init; } = 16;

    /// <summary>Rows decoded together by one generation call; bounds memory (about 1 MiB of logits a row).</summary>
    public int GenerateChunk { get; init; } = 64;
}
