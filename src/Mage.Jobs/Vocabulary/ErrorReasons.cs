using Mage.Inference;
using Mage.Inference.Imaging;

namespace Mage.Jobs.Vocabulary;

/// <summary>Builds the reasons and texts of refused inputs. Stateless and thread-safe.</summary>
internal static class ErrorReasons
{
    /// <summary>The reason of an image that could not be decoded.</summary>
    public static ErrorReason From(ImageDecodeFailure failure) => failure switch
    {
        ImageDecodeFailure.Empty => ErrorReason.Empty,
        ImageDecodeFailure.NotAnImage => ErrorReason.NotAnImage,
        ImageDecodeFailure.Unsupported => ErrorReason.Unsupported,
        ImageDecodeFailure.TooLarge => ErrorReason.TooLarge,
        ImageDecodeFailure.Corrupt => ErrorReason.Corrupt,
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, "No error reason for this image failure."),
    };

    /// <summary>One line for logs, events and Parquet rows: <c>reason: message</c>.</summary>
    public static string Format(ErrorReason reason, string message) => $"{WireNames.Of(reason)}: {message}";
}
