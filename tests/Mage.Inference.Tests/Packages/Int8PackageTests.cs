using System.Globalization;
using Mage.Inference.Numpy;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;
using Mage.Inference.Tests.Numpy;
using Xunit.Abstractions;

namespace Mage.Inference.Tests.Packages;

/// <summary>
/// Int8 packages (export.py --precision int8) on ONNX Runtime's CPU provider, against the PyTorch
/// float32 outputs the exporter stores in golden.npz.
/// </summary>
public sealed class Int8PackageTests(ITestOutputHelper output)
{
    [PythonFact]
    public void An_int8_export_holds_the_int8_bounds_against_the_float32_PyTorch_model()
    {
        using var temp = new TempFolder();
        var folder = TinyExport.Run(temp, ModelPackage.Int8);

        using var model = MageModel.Load(new MageModelOptions { PackagePath = folder, Device = "cpu" });
        Assert.Equal(ModelPackage.Int8, model.Package.Manifest.Precision);
        var checks = GoldenCheck.Run(model, NpzFile.Read(model.Package.GoldenPath!));

        // The int8 bounds are set at about twice the error measured here and on vit-base.
        GoldenCheckLog.Write(output, checks);

        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Measured} (bound {c.Tolerance})"));
        // The int8 bounds are the ones applied: features by cosine, looser logits and schedules.
        Assert.StartsWith("min cosine", checks.Single(c => c.Name == "features (linprobe)").Measured, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"{GoldenCheck.Int8ScheduleMatchTolerance:P0}"), checks.Single(c => c.Name == "generation schedule (host)").Tolerance, StringComparison.Ordinal);
        // ...and they are not vacuous: the products really are quantized, so the logits move.
        var logits = double.Parse(checks.Single(c => c.Name == "logits").Measured["rel L2 ".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(logits, GoldenCheck.RelativeL2Tolerance, GoldenCheck.Int8LogitsRelativeL2Tolerance);
    }
}
