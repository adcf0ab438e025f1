using System.Text.Json.Serialization;

namespace Mage.Inference.Imaging;

/// <summary>How <see cref="ImagePreprocessor"/> brings an image to the model's square input.</summary>
[JsonConverter(typeof(WireNameConverter<PreprocessMode>))]
public enum PreprocessMode
{
    /// <summary>Shorter side to size / 0.875 (292 for 256) with bicubic, then a centre crop:
    /// the evaluation transform of MAGE's linear probe.</summary>
    [JsonStringEnumMemberName("linprobe")]
    Linprobe,

    /// <summary>Shorter side to the model size with bicubic, then a centre crop: keeps as much of
    /// the image as a square crop can.</summary>
    [JsonStringEnumMemberName("square")]
    Square,

    /// <summary>The image must already be exactly the model size; it is copied unchanged.</summary>
    [JsonStringEnumMemberName("none")]
    None,
}
