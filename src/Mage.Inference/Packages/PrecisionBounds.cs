namespace Mage.Inference.Packages;

/// <summary>
/// The golden-check bounds of one package precision (<see cref="GoldenCheck"/> chooses them).
/// <paramref name="FeatureCosine"/>, when set, replaces the relative L2 check of the features.
/// </summary>
internal sealed record PrecisionBounds(double FeatureL2, double? FeatureCosine, double LogitsL2, double Pixel, double Schedule);
