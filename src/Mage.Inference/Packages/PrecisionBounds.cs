namespace Mage.Inference.Packages;

/// <summary>
/// The golden-check bounds of one package precision (<see cref="GoldenCheck"/> chooses them).
/// <paramref name="FeatureCosine"/>, when set, replaces the relative L2 check of the features;
/// <paramref name="PixelPsnrDb"/>, when set, replaces the largest-absolute-error check of the decoded
/// pixels with a smallest per-image PSNR.
/// </summary>
internal sealed record PrecisionBounds(double Tokens, double FeatureL2, double? FeatureCosine, double LogitsL2, double Pixel, double? PixelPsnrDb, double Schedule);
