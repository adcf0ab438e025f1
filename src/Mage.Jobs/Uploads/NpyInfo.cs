namespace Mage.Jobs.Uploads;

/// <summary>One .npy file: its path in the results container, dtype and shape.</summary>
public sealed record NpyInfo(string Path, string Dtype, IReadOnlyList<int> Shape);
