namespace Mage.Inference.Packages;

/// <summary>One comparison of a <see cref="GoldenCheck"/>: what was measured against which tolerance.</summary>
/// <param name="Name">What was compared, for example "tokens" or "features (cls)".</param>
/// <param name="Measured">The measured agreement, in words.</param>
/// <param name="Tolerance">The bound it must meet, in words.</param>
/// <param name="Passed">Whether it met the bound.</param>
public sealed record GoldenCheckResult(string Name, string Measured, string Tolerance, bool Passed);
