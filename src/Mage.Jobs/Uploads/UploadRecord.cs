using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Uploads;

/// <summary>The record.json (or error.json) of one upload version.</summary>
public sealed record UploadRecord(
    RecordStatus Status,
    ModelInfo? Model,
    FeaturePooling? Pooling,
    bool? Normalized,
    PreprocessMode? Preprocess,
    UploadSource Source,
    UploadFiles? Files,
    UploadTimings? TimingsMs,
    ErrorReason? Reason,
    string? Message);
