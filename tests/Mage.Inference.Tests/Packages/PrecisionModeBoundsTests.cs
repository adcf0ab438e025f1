using Mage.Inference.Numpy;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;
using Xunit.Abstractions;

namespace Mage.Inference.Tests.Packages;

/// <summary>
/// The golden-check bounds of each precision mode: chosen from the package precision and the mode
/// together, and applied by <see cref="GoldenCheck.Run"/> to a model loaded in that mode.
/// </summary>
public sealed class PrecisionModeBoundsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ModelPackage.Float32, PrecisionMode.Exact, GoldenCheck.RelativeL2Tolerance, GoldenCheck.PixelTolerance)]
    [InlineData(ModelPackage.Float32, PrecisionMode.PyTorch, GoldenCheck.Tf32RelativeL2Tolerance, GoldenCheck.Tf32PixelTolerance)]
    [InlineData(ModelPackage.Float32, PrecisionMode.Fast, GoldenCheck.HalfRelativeL2Tolerance, GoldenCheck.HalfPixelTolerance)]
    [InlineData(ModelPackage.Float16, PrecisionMode.Exact, GoldenCheck.HalfRelativeL2Tolerance, GoldenCheck.HalfPixelTolerance)]
    [InlineData(ModelPackage.Float16, PrecisionMode.PyTorch, GoldenCheck.HalfRelativeL2Tolerance, GoldenCheck.HalfPixelTolerance)]
    [InlineData(ModelPackage.Int8, PrecisionMode.Fast, GoldenCheck.RelativeL2Tolerance, GoldenCheck.PixelTolerance)]
    public void Each_package_precision_and_mode_gets_its_bounds(string precision, PrecisionMode mode, double featureL2, double pixel)
    {
        var bounds = GoldenCheck.BoundsFor(precision, mode);

        Assert.Equal(featureL2, bounds.FeatureL2);
        Assert.Equal(pixel, bounds.Pixel);
        Assert.Equal(precision == ModelPackage.Int8 ? GoldenCheck.Int8FeatureCosine : null, bounds.FeatureCosine);
    }

    [Fact]
    public void The_pytorch_bounds_are_looser_than_exact_and_tighter_than_half_precision()
    {
        var exact = GoldenCheck.BoundsFor(ModelPackage.Float32, PrecisionMode.Exact);
        var pytorch = GoldenCheck.BoundsFor(ModelPackage.Float32, PrecisionMode.PyTorch);
        var fast = GoldenCheck.BoundsFor(ModelPackage.Float32, PrecisionMode.Fast);

        Assert.InRange(pytorch.FeatureL2, exact.FeatureL2 * 2, fast.FeatureL2 / 2);
        Assert.InRange(pytorch.Pixel, exact.Pixel * 2, fast.Pixel / 2);
        Assert.Equal(exact.Schedule, pytorch.Schedule);
    }

    [Theory]
    [InlineData(PrecisionMode.PyTorch, "<= 0.001")]
    [InlineData(PrecisionMode.Fast, "<= 0.01")]
    public void A_model_loaded_in_a_mode_is_checked_with_that_modes_bounds(PrecisionMode mode, string logitsTolerance)
    {
        using var model = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu", Precision = mode });

        var checks = GoldenCheck.Run(model, NpzFile.Read(model.Package.GoldenPath!));
        GoldenCheckLog.Write(output, checks);

        Assert.Equal(logitsTolerance, checks.Single(c => c.Name == "logits").Tolerance);
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Measured} (bound {c.Tolerance})"));
    }
}
