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
    /// <summary>Scales every int8 convolution's weight scale in detokenizer.onnx by argv[2] (a deliberately bad calibration).</summary>
    private const string ScaleDetokenizerWeights = """
        import sys, onnx, numpy as np
        from onnx import numpy_helper
        path = sys.argv[1] + "/detokenizer.onnx"
        m = onnx.load(path)
        n = 0
        for i, t in enumerate(m.graph.initializer):
            if t.name.endswith(".weight_scale"):
                m.graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) * np.float32(sys.argv[2]), t.name))
                n += 1
        assert n > 0, "no int8 convolution in the detokenizer"
        onnx.save(m, path)
        print(n)
        """;

    [PythonFact]
    public void An_int8_export_holds_the_int8_bounds_and_a_bad_convolution_scale_breaks_them()
    {
        using var temp = new TempFolder();
        var folder = TinyExport.Run(temp, ModelPackage.Int8);

        IReadOnlyList<GoldenCheckResult> Check()
        {
            using var model = MageModel.Load(new MageModelOptions { PackagePath = folder, Device = "cpu", VerifyHashes = false });
            Assert.Equal(ModelPackage.Int8, model.Package.Manifest.Precision);
            return GoldenCheck.Run(model, NpzFile.Read(model.Package.GoldenPath!));
        }

        var checks = Check();
        GoldenCheckLog.Write(output, checks);
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Measured} (bound {c.Tolerance})"));
        // The int8 bounds are the ones applied: tokens, features by cosine, pixels by PSNR, schedules.
        Assert.Contains(FormattableString.Invariant($"{GoldenCheck.Int8TokenMatchTolerance:P0}"), checks.Single(c => c.Name == "tokens").Tolerance, StringComparison.Ordinal);
        Assert.StartsWith("min cosine", checks.Single(c => c.Name == "features (linprobe)").Measured, StringComparison.Ordinal);
        Assert.StartsWith("min PSNR", checks.Single(c => c.Name == "decoded pixels").Measured, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"{GoldenCheck.Int8ScheduleMatchTolerance:P0}"), checks.Single(c => c.Name == "generation schedule (host)").Tolerance, StringComparison.Ordinal);
        // ...and they are not vacuous: the products really are quantized, so the logits move.
        var logits = double.Parse(checks.Single(c => c.Name == "logits").Measured["rel L2 ".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(logits, GoldenCheck.RelativeL2Tolerance, GoldenCheck.Int8LogitsRelativeL2Tolerance);
        // The latent the nearest-code search reads is never quantized, and the manifest says so.
        var manifest = ModelPackage.Load(folder, verifyHashes: true).Manifest;
        Assert.Contains("vqgan.encoder.conv_out", manifest.FloatConvolutions);

        // Weights read at twice their scale: the detokenized images leave the PSNR bound.
        output.WriteLine($"scaled {Python.Run(ScaleDetokenizerWeights, folder, "2").Trim()} weight scales by 2");
        var broken = Check();
        GoldenCheckLog.Write(output, broken);
        var pixels = broken.Single(c => c.Name == "decoded pixels");
        Assert.False(pixels.Passed, $"{pixels.Measured} should miss {pixels.Tolerance}");
        Assert.Equal(FormattableString.Invariant($">= {GoldenCheck.Int8PixelPsnrDb} dB"), pixels.Tolerance);
        Assert.All(broken.Where(c => c.Name != "decoded pixels"), c => Assert.True(c.Passed, $"{c.Name} does not read the detokenizer"));
    }

    [Fact]
    public void The_smallest_PSNR_is_that_of_the_worst_image()
    {
        // Two images of 4 values: the first off by 0.01 everywhere (MSE 1e-4: 40 dB), the second by
        // 0.1 in one value (MSE 0.0025: 26.02 dB).
        float[] expected = [0.5f, 0.5f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f, 0.2f];
        float[] actual = [0.51f, 0.49f, 0.51f, 0.49f, 0.3f, 0.2f, 0.2f, 0.2f];

        Assert.Equal(10 * Math.Log10(1 / 0.0025), GoldenCheck.MinPsnrDb(actual, expected, 4), 3);
        Assert.Equal(40, GoldenCheck.MinPsnrDb(actual.AsSpan(0, 4), expected.AsSpan(0, 4), 4), 3);
        Assert.Equal(double.PositiveInfinity, GoldenCheck.MinPsnrDb(expected, expected, 4));
        Assert.Equal(double.NegativeInfinity, GoldenCheck.MinPsnrDb(actual, expected, 3));
    }
}
