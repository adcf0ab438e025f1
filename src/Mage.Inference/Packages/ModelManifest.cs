using System.Text.Json.Serialization;

namespace Mage.Inference.Packages;

/// <summary>
/// The <c>manifest.json</c> of a model package, as written by <c>tools/export</c> (format version 1).
/// Immutable; safe to share between threads.
/// </summary>
public sealed record ModelManifest
{
    [JsonPropertyName("format")] public string Format { get; init; } = "";
    [JsonPropertyName("format_version")] public int FormatVersion { get; init; }
    [JsonPropertyName("arch")] public string Arch { get; init; } = "";
    [JsonPropertyName("precision")] public string Precision { get; init; } = "";
    [JsonPropertyName("opset")] public int Opset { get; init; }
    [JsonPropertyName("image_size")] public int ImageSize { get; init; }
    [JsonPropertyName("token_grid")] public int TokenGrid { get; init; }
    [JsonPropertyName("num_tokens")] public int NumTokens { get; init; }
    [JsonPropertyName("codebook_size")] public int CodebookSize { get; init; }
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("mask_id")] public int MaskId { get; init; }
    [JsonPropertyName("fake_class_id")] public int FakeClassId { get; init; }
    [JsonPropertyName("feature_dim")] public int FeatureDim { get; init; }
    [JsonPropertyName("graphs")] public Dictionary<string, string> Graphs { get; init; } = [];
    [JsonPropertyName("files")] public Dictionary<string, PackageFile> Files { get; init; } = [];
    [JsonPropertyName("source")] public PackageSource Source { get; init; } = new();

    /// <summary>
    /// What the tokenizer's nearest-code search computes in: <see cref="ModelPackage.QuantizerFloat64"/>
    /// (distances, their sums and the argmin in double inside the graph) or
    /// <see cref="ModelPackage.QuantizerFloat32"/>, which packages written before the field existed read as.
    /// </summary>
    [JsonPropertyName("quantizer")] public string Quantizer { get; init; } = ModelPackage.QuantizerFloat32;

    /// <summary>
    /// The VQGAN convolutions an int8 package keeps in float32, by checkpoint module name (for
    /// example <c>vqgan.encoder.conv_out</c>); every other convolution of its tokenizer and
    /// detokenizer is int8. Empty for other precisions and for int8 packages written before the
    /// field existed (their VQGAN graphs are all float32).
    /// </summary>
    [JsonPropertyName("float_convolutions")] public IReadOnlyList<string> FloatConvolutions { get; init; } = [];

    /// <summary>
    /// Whether the token ids cannot move with TF32: the nearest-code distances are double products,
    /// which TF32 never touches, so a CUDA session may run the tokenizer's float32 convolutions in
    /// TF32 and still compare distances exactly.
    /// </summary>
    [JsonIgnore] public bool TokensIgnoreTf32 => Quantizer == ModelPackage.QuantizerFloat64;
}
