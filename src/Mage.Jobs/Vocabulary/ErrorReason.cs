using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.Vocabulary;

/// <summary>
/// Why an input was refused: the <c>reason</c> of error records and the prefix of a Parquet row's
/// <c>error</c>. One casing (lower camel case) for all of them; an image that cannot be decoded
/// gets the reason of its <see cref="Inference.Imaging.ImageDecodeFailure"/> (<see cref="ErrorReasons.From"/>).
/// </summary>
[JsonConverter(typeof(WireNameConverter<ErrorReason>))]
public enum ErrorReason
{
    /// <summary>The message is not valid JSON of the expected shape.</summary>
    [JsonStringEnumMemberName("invalidMessage")]
    InvalidMessage,

    /// <summary>A parameter is missing or out of range.</summary>
    [JsonStringEnumMemberName("invalidRequest")]
    InvalidRequest,

    /// <summary>A blob name that cannot become a storage path.</summary>
    [JsonStringEnumMemberName("invalidName")]
    InvalidName,

    /// <summary>A blob, or the output container, the request names does not exist.</summary>
    [JsonStringEnumMemberName("missing")]
    Missing,

    /// <summary>The blob or file is empty (<see cref="Inference.Imaging.ImageDecodeFailure.Empty"/>).</summary>
    [JsonStringEnumMemberName("empty")]
    Empty,

    /// <summary>No image format was recognised in it (<see cref="Inference.Imaging.ImageDecodeFailure.NotAnImage"/>).</summary>
    [JsonStringEnumMemberName("notAnImage")]
    NotAnImage,

    /// <summary>An image format the service refuses (<see cref="Inference.Imaging.ImageDecodeFailure.Unsupported"/>).</summary>
    [JsonStringEnumMemberName("unsupported")]
    Unsupported,

    /// <summary>Over a size limit, in bytes, pixels, side or frames (<see cref="Inference.Imaging.ImageDecodeFailure.TooLarge"/>).</summary>
    [JsonStringEnumMemberName("tooLarge")]
    TooLarge,

    /// <summary>Damaged image data (<see cref="Inference.Imaging.ImageDecodeFailure.Corrupt"/>).</summary>
    [JsonStringEnumMemberName("corrupt")]
    Corrupt,

    /// <summary>A container or folder the caller may not use (<see cref="Options.StorageSettings.Sources"/>, <see cref="Options.StorageSettings.Outputs"/>, the service's own areas).</summary>
    [JsonStringEnumMemberName("notAllowed")]
    NotAllowed,

    /// <summary>The output already holds blobs this work did not write (another job's prefix, someone's files); nothing is overwritten.</summary>
    [JsonStringEnumMemberName("outputInUse")]
    OutputInUse,

    /// <summary>
    /// A blob name or prefix longer, or with more '/'-separated segments, than Azure takes once the
    /// service's paths are built from it (<see cref="Storage.BlobNames.MaxPathLength"/>).
    /// </summary>
    [JsonStringEnumMemberName("nameTooLong")]
    NameTooLong,
}
