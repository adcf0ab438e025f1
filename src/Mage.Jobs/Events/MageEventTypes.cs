namespace Mage.Jobs.Events;

/// <summary>Event type names.</summary>
public static class MageEventTypes
{
    public const string UploadCompleted = "mage.upload.completed";
    public const string UploadFailed = "mage.upload.failed";
    public const string JobCompleted = "mage.job.completed";
    public const string JobFailed = "mage.job.failed";
    public const string EditCompleted = "mage.edit.completed";
    public const string EditFailed = "mage.edit.failed";
    public const string GenerateCompleted = "mage.generate.completed";
    public const string GenerateFailed = "mage.generate.failed";
}
