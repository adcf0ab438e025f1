namespace Mage.Inference.Engine;

/// <summary>The tokens and feature of one image.</summary>
/// <param name="Tokens">256 codebook ids, row-major over the 16x16 grid.</param>
/// <param name="Features">D floats.</param>
/// <param name="Options">The options used.</param>
/// <param name="SourceWidth">Width of the decoded image before preprocessing, in pixels.</param>
/// <param name="SourceHeight">Height of the decoded image before preprocessing, in pixels.</param>
/// <param name="DecodeTime">Time to decode and preprocess the image.</param>
/// <param name="InferenceTime">Time from submitting to the batchers until the feature came back (includes waiting for a batch).</param>
public sealed record ImageEmbedding(
    long[] Tokens,
    float[] Features,
    EmbedOptions Options,
    int SourceWidth,
    int SourceHeight,
    TimeSpan DecodeTime,
    TimeSpan InferenceTime);
