namespace Mage.Jobs.Uploads;

/// <summary>Where the time went, in milliseconds. Inference includes waiting for a batch.</summary>
public sealed record UploadTimings(double Download, double Decode, double Inference, double Total);
