using System.Globalization;
using Mage.Inference.Decoding;
using Mage.Inference.Numpy;
using Mage.Inference.Runtime;

namespace Mage.Inference.Packages;

/// <summary>
/// Runs a package's golden.npz inputs through the loaded model and compares with the outputs the
/// exporter computed in PyTorch: tokens, the three features, logits, decoded pixels and the two
/// deterministic schedule runs (host decoder and sampler graph). Used by <c>mage model verify</c>
/// and the GPU check in bench/.
/// </summary>
public static class GoldenCheck
{
    /// <summary>Share of token ids that must equal the exporter's (ids may differ where two codes are equally near).</summary>
    public const double TokenMatchTolerance = 0.99;

    /// <summary>Largest relative L2 error of features and logits, ||ours - golden|| / ||golden||, for float32 packages.</summary>
    public const double RelativeL2Tolerance = 1e-4;

    /// <summary>Largest absolute error of a decoded pixel, on the [0, 1] scale, for float32 packages.</summary>
    public const double PixelTolerance = 1e-4;

    /// <summary>Relative L2 bound for float16 packages (golden outputs come from the float32 model; half precision keeps about 3 digits).</summary>
    public const double HalfRelativeL2Tolerance = 1e-2;

    /// <summary>Pixel bound for float16 packages: about 13 of 255 levels.</summary>
    public const double HalfPixelTolerance = 5e-2;

    /// <summary>
    /// Share of token ids that must equal PyTorch's float32 model's for int8 packages, whose
    /// tokenizer convolutions may be int8 (tools/export/mage_export/int8_conv.py): issue 26's bound.
    /// </summary>
    public const double Int8TokenMatchTolerance = 0.95;

    /// <summary>
    /// Smallest cosine similarity of a feature row to PyTorch's for int8 packages (the transformer's
    /// matrix products in int8; tools/export/mage_export/int8.py): issue 26's bound. The features are
    /// computed from the golden tokens, so this measures the transformer alone.
    /// </summary>
    public const double Int8FeatureCosine = 0.99;

    /// <summary>
    /// Relative L2 bound of the logits for int8 packages: about twice the largest measured error,
    /// 2.7e-2 (vit-base; the tiny fixture's is 1.8e-2).
    /// </summary>
    public const double Int8LogitsRelativeL2Tolerance = 0.055;

    /// <summary>
    /// Smallest PSNR of a decoded image against PyTorch's float32 one, in dB on the [0, 1] scale, for
    /// int8 packages, whose detokenizer convolutions may be int8: issue 26's bound. 35 dB is an RMS
    /// error of about 4.5 of 255 levels.
    /// </summary>
    public const double Int8PixelPsnrDb = 35;

    /// <summary>
    /// Share of ids of a deterministic schedule run that must equal PyTorch's for int8 packages
    /// (issue 26's bound): quantization moves near-tied confidences, and one changed pick changes the
    /// later steps.
    /// </summary>
    public const double Int8ScheduleMatchTolerance = 0.85;

    /// <summary>
    /// Relative L2 bound of features and logits in the <see cref="PrecisionMode.PyTorch"/> mode on
    /// CUDA, where the VQGAN graphs run in TF32 (10-bit mantissa): the issue's bound for PyTorch's
    /// own CUDA defaults against its CPU outputs.
    /// </summary>
    public const double Tf32RelativeL2Tolerance = 1e-3;

    /// <summary>
    /// Pixel bound in the <see cref="PrecisionMode.PyTorch"/> mode: the detokenizer's convolutions in
    /// TF32, about 3 of 255 levels. Set before any GPU run measured it; the next one checks it
    /// (bench/gpu/run.sh).
    /// </summary>
    public const double Tf32PixelTolerance = 1e-2;

    /// <summary>
    /// Share of ids of a deterministic schedule run that must equal PyTorch's. An argmax or a
    /// cut-off that falls on a near-tie early on changes later steps, so this is looser than
    /// exact; the CPU provider gives 100% on the committed fixture.
    /// </summary>
    public const double ScheduleMatchTolerance = 0.99;

    /// <summary>Runs every comparison the golden arrays allow.</summary>
    /// <exception cref="InvalidDataException">A required array is missing.</exception>
    public static IReadOnlyList<GoldenCheckResult> Run(MageModel model, IReadOnlyDictionary<string, NpyArray> golden, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(golden);
        NpyArray Need(string key) => golden.TryGetValue(key, out var a)
            ? a
            : throw new InvalidDataException($"golden.npz has no '{key}' array; it has {string.Join(", ", golden.Keys)}.");

        var expectedTokens = Need("tokens").ToInt64Array();
        var batch = Need("tokens").Shape[0];
        const int side = MageTokens.ImageSize;
        var checks = new List<GoldenCheckResult>();
        var bounds = BoundsFor(model.Package.Manifest.Precision, model.Precision);

        // golden "images" are uint8 [N, 256, 256, 3]; the tokenizer takes [N, 3, 256, 256] in [0, 1].
        var images = Need("images").AsUInt8();
        var pixels = new float[batch * 3 * side * side];
        for (var b = 0; b < batch; b++)
        {
            for (var p = 0; p < side * side; p++)
            {
                for (var c = 0; c < 3; c++)
                {
                    pixels[(b * 3 * side * side) + (c * side * side) + p] = images[(b * side * side * 3) + (p * 3) + c] / 255f;
                }
            }
        }

        var tokens = new long[batch * MageTokens.Count];
        model.Tokenize(pixels, batch, tokens, cancellationToken);
        checks.Add(MatchCheck("tokens", tokens, expectedTokens, bounds.Tokens));

        // golden.npz names each pooled feature like the pooling's wire name (tools/export/README.md).
        foreach (var pooling in Enum.GetValues<FeaturePooling>())
        {
            var key = WireNames.Of(pooling);
            var features = new float[batch * model.FeatureDim];
            model.Features(expectedTokens, batch, pooling, features, cancellationToken);
            checks.Add(bounds.FeatureCosine is { } cosine
                ? CosineCheck($"features ({key})", features, Need(key).AsFloat32(), model.FeatureDim, cosine)
                : RelativeL2Check($"features ({key})", features, Need(key).AsFloat32(), bounds.FeatureL2));
        }

        var ids = Need("decoder_ids");
        var logits = new float[ids.Shape[0] * MageTokens.Count * MageTokens.CodebookSize];
        model.Logits(ids.ToInt64Array(), ids.Shape[0], logits, cancellationToken);
        checks.Add(RelativeL2Check("logits", logits, Need("logits").AsFloat32(), bounds.LogitsL2));

        var decoded = new float[batch * 3 * side * side];
        model.Detokenize(expectedTokens, batch, decoded, cancellationToken);
        checks.Add(bounds.PixelPsnrDb is { } psnr
            ? PsnrCheck("decoded pixels", decoded, Need("decoded").AsFloat32(), 3 * side * side, psnr)
            : MaxAbsCheck("decoded pixels", decoded, Need("decoded").AsFloat32(), bounds.Pixel));

        if (golden.ContainsKey("generate_steps"))
        {
            var options = new DecodeOptions((int)Need("generate_steps").AsInt64()[0], 0, Deterministic: true);
            var edit = new DecodeRow(Need("edit_ids").ToInt64Array()[1..], 0, 0);
            foreach (var (name, row, key) in new[] { ("generation", DecodeRow.AllMasked(0, 0), "generated"), ("edit", edit, "edited") })
            {
                DecodeRow[] rows = [row];
                var expected = Need(key).ToInt64Array();
                var host = HostDecodeLoop.DecodeAsync(rows, options, model.LogitsAsync, cancellationToken: cancellationToken).AsTask().GetAwaiter().GetResult();
                checks.Add(MatchCheck($"{name} schedule (host)", host[0], expected, bounds.Schedule));
                var device = model.Decode(rows, options, cancellationToken: cancellationToken);
                checks.Add(MatchCheck($"{name} schedule (sampler graph)", device[0], expected, bounds.Schedule));
            }
        }

        return checks;
    }

    /// <summary>
    /// Each package precision's and mode's bounds in one place. fp16 packages and the fast mode
    /// loosen every float comparison; int8 packages, whose VQGAN convolutions and transformer
    /// products may both be int8, get issue 26's bounds (tokens, features by cosine, decoded images
    /// by PSNR, schedules) and their own logits bound; the pytorch mode's TF32 convolutions get the
    /// TF32 bounds. On the CPU every mode computes float32, so the looser bounds only matter on CUDA.
    /// </summary>
    internal static PrecisionBounds BoundsFor(string precision, PrecisionMode mode) => (precision, mode) switch
    {
        (ModelPackage.Int8, _) => new(Int8TokenMatchTolerance, RelativeL2Tolerance, Int8FeatureCosine, Int8LogitsRelativeL2Tolerance, PixelTolerance, Int8PixelPsnrDb, Int8ScheduleMatchTolerance),
        (ModelPackage.Float16, _) or (_, PrecisionMode.Fast) => new(TokenMatchTolerance, HalfRelativeL2Tolerance, null, HalfRelativeL2Tolerance, HalfPixelTolerance, null, ScheduleMatchTolerance),
        (_, PrecisionMode.PyTorch) => new(TokenMatchTolerance, Tf32RelativeL2Tolerance, null, Tf32RelativeL2Tolerance, Tf32PixelTolerance, null, ScheduleMatchTolerance),
        _ => new(TokenMatchTolerance, RelativeL2Tolerance, null, RelativeL2Tolerance, PixelTolerance, null, ScheduleMatchTolerance),
    };

    /// <summary>
    /// The smallest PSNR over images of <paramref name="size"/> values on the [0, 1] scale, in dB:
    /// 10 log10(1 / mean squared error). Infinite for identical images; -infinity on a length
    /// mismatch or a NaN, so those fail.
    /// </summary>
    internal static double MinPsnrDb(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int size)
    {
        if (actual.Length != expected.Length || size <= 0 || actual.Length % size != 0)
        {
            return double.NegativeInfinity;
        }

        var min = double.PositiveInfinity;
        for (var image = 0; image < actual.Length; image += size)
        {
            double sum = 0;
            for (var i = image; i < image + size; i++)
            {
                var d = (double)actual[i] - expected[i];
                sum += d * d;
            }

            var psnr = double.IsNaN(sum) ? double.NegativeInfinity : 10 * Math.Log10(size / sum);
            min = Math.Min(min, psnr);
        }

        return min;
    }

    /// <summary>||a - b|| / ||b||; infinite when the lengths differ, so a shape mismatch fails.</summary>
    internal static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        double diff = 0, norm = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    /// <summary>Largest |a - b|; infinite when the lengths differ or a value is NaN.</summary>
    internal static double MaxAbs(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = Math.Abs((double)actual[i] - expected[i]);
            max = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(max, d);
        }

        return max;
    }

    private static GoldenCheckResult MatchCheck(string name, long[] actual, long[] expected, double tolerance)
    {
        var same = actual.Length == expected.Length ? actual.Zip(expected).Count(x => x.First == x.Second) : 0;
        var rate = (double)same / expected.Length;
        return new GoldenCheckResult(name, Invariant($"{same}/{expected.Length} identical ({rate:P2})"), Invariant($">= {tolerance:P0}"), rate >= tolerance);
    }

    /// <summary>The smallest cosine similarity of corresponding rows of <paramref name="width"/> values; -infinity on a length mismatch.</summary>
    internal static double MinCosine(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int width)
    {
        if (actual.Length != expected.Length || width <= 0 || actual.Length % width != 0)
        {
            return double.NegativeInfinity;
        }

        var min = double.PositiveInfinity;
        for (var row = 0; row < actual.Length; row += width)
        {
            double dot = 0, na = 0, ne = 0;
            for (var i = row; i < row + width; i++)
            {
                dot += (double)actual[i] * expected[i];
                na += (double)actual[i] * actual[i];
                ne += (double)expected[i] * expected[i];
            }

            var cosine = na == 0 || ne == 0 ? (na == ne ? 1 : 0) : dot / Math.Sqrt(na * ne);
            min = Math.Min(min, double.IsNaN(cosine) ? double.NegativeInfinity : cosine);
        }

        return min;
    }

    private static GoldenCheckResult CosineCheck(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int width, double bound)
    {
        var cosine = MinCosine(actual, expected, width);
        return new GoldenCheckResult(name, Invariant($"min cosine {cosine:F5}"), Invariant($">= {bound}"), cosine >= bound);
    }

    private static GoldenCheckResult PsnrCheck(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int size, double bound)
    {
        var psnr = MinPsnrDb(actual, expected, size);
        return new GoldenCheckResult(name, Invariant($"min PSNR {psnr:F1} dB"), Invariant($">= {bound} dB"), psnr >= bound);
    }

    private static GoldenCheckResult MaxAbsCheck(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double bound)
    {
        var maxAbs = MaxAbs(actual, expected);
        return new GoldenCheckResult(name, Invariant($"max abs {maxAbs:E2}"), Invariant($"<= {bound:E0}"), maxAbs <= bound);
    }

    private static GoldenCheckResult RelativeL2Check(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance)
    {
        var error = RelativeL2(actual, expected);
        return new GoldenCheckResult(name, Invariant($"rel L2 {error:E2}"), Invariant($"<= {tolerance:G3}"), error <= tolerance);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
