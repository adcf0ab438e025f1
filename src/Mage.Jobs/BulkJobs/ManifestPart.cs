namespace Mage.Jobs.BulkJobs;

/// <summary>One Parquet part: its blob name, rows with an embedding and rows with an error.</summary>
public sealed record ManifestPart(string Name, int Rows, int Failed);
