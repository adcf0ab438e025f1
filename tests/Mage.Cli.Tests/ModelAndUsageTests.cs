namespace Mage.Cli.Tests;

/// <summary>model info/verify, and command-line mistakes (exit code 2 with a useful message).</summary>
public sealed class ModelAndUsageTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Model_info_shows_arch_precision_dim_source_and_files()
    {
        var run = await Cli.RunAsync("model", "info", Cli.TinyPackage);
        Assert.True(run.ExitCode == 0, run.ToString());
        // The encoder's size and SHA-256 as read from the file itself (re-exporting the fixture changes them).
        var encoder = Path.Combine(Cli.TinyPackage, "encoder.onnx");
        var size = new FileInfo(encoder).Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(encoder)));
        foreach (var expected in new[] { "tiny", "fp32", "64", "random-init", "encoder.onnx", size, sha256 })
        {
            Assert.Contains(expected, run.Out);
        }
    }

    [Fact]
    public async Task Model_verify_passes_on_the_fixture()
    {
        var run = await Cli.RunAsync("model", "verify", Cli.TinyPackage, "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("tokens", run.Out);
        Assert.Contains("logits", run.Out);
        Assert.Contains("decoded pixels", run.Out);
        Assert.DoesNotContain("FAIL", run.Out);
    }

    [Fact]
    public async Task Model_verify_fails_naming_a_tampered_file()
    {
        foreach (var file in Directory.GetFiles(Cli.TinyPackage))
        {
            File.Copy(file, temp[Path.GetFileName(file)]);
        }

        var bytes = File.ReadAllBytes(temp["decoder.onnx"]);
        bytes[^100] ^= 0x5A;
        File.WriteAllBytes(temp["decoder.onnx"], bytes);

        var run = await Cli.RunAsync("model", "verify", temp.Path, "--device", "cpu");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("decoder.onnx", run.Error);
        Assert.Contains("SHA-256", run.Error);
    }

    [Theory]
    [InlineData(new[] { "tokenize", "a.png" }, "--out")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "generate", "--seed", "1", "--out", "x" }, "--count")]
    [InlineData(new[] { "generate", "--count", "0", "--seed", "1", "--out", "x" }, "--count 0 is out of range 1..4096")]
    [InlineData(new[] { "embed", "a.png", "--out", "x.npy", "--device", "gpu" }, "use auto, cpu, cuda or cuda:N")]
    [InlineData(new[] { "embed", "a.png", "--out", "x.npy", "--batch-size", "0" }, "--batch-size 0 is out of range")]
    [InlineData(new[] { "embed", "a.png", "--out", "x.csv" }, "must end in .npy or .parquet")]
    [InlineData(new[] { "inpaint", "a.png", "--out", "o.png" }, "Give either --mask FILE or one or more --box")]
    [InlineData(new[] { "inpaint", "a.png", "--box", "1,2,3", "--out", "o.png" }, "--box '1,2,3' is not x,y,w,h")]
    [InlineData(new[] { "outpaint", "a.png", "--out", "o.png" }, "at least one of --left")]
    [InlineData(new[] { "uncrop", "a.png", "--scale", "1.5", "--out", "o.png" }, "1.5")]
    [InlineData(new[] { "tokenize", "a.png", "--out", "t.npy", "--preprocess", "stretch" }, "'square'")]
    [InlineData(new[] { "generate", "--count", "1", "--seed", "1", "--steps", "65", "--out", "d" }, "--steps 65 must be between 1 and 64")]
    [InlineData(new[] { "inpaint", "a.png", "--box", "0,0,8,8", "--temperature", "101", "--out", "o.png" }, "--temperature 101 must be a finite number between 0 and 100")]
    [InlineData(new[] { "queue", "send", "uploads", "m.json" }, "queue 'uploads' is not one of 'jobs', 'shards', 'edits', 'generate'")]
    public async Task Usage_errors_exit_2_with_a_helpful_message(string[] args, string expected)
    {
        var run = await Cli.RunAsync(args);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(expected, run.Error);
        Assert.Contains("--help' for usage", run.Error);
    }

    [Fact]
    public async Task Model_verify_checks_with_the_bounds_of_the_precision_mode_asked_for()
    {
        var run = await Cli.RunAsync("model", "verify", Cli.TinyPackage, "--device", "cpu", "--precision", "pytorch");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("<= 0.001", run.Out); // the TF32 bound of features and logits, not float32's 1E-004
        Assert.DoesNotContain("FAIL", run.Out);
    }

    [Fact]
    public async Task Unknown_precision_mode_lists_the_valid_ones()
    {
        var run = await Cli.RunAsync("model", "verify", Cli.TinyPackage, "--precision", "tf32");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'tf32'", run.Error);
        foreach (var valid in new[] { "exact", "pytorch", "fast" })
        {
            Assert.Contains($"'{valid}'", run.Error);
        }
    }

    [Fact]
    public async Task Unknown_pooling_lists_the_valid_ones()
    {
        var run = await Cli.RunAsync("embed", "a.png", "--pooling", "max", "--out", "e.npy");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'max'", run.Error);
        foreach (var valid in new[] { "linprobe", "cls", "mean" })
        {
            Assert.Contains($"'{valid}'", run.Error);
        }
    }

    [Fact]
    public async Task Help_exits_0_and_lists_the_commands()
    {
        var run = await Cli.RunAsync("--help");
        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "tokenize", "embed", "generate", "inpaint", "outpaint", "uncrop", "decode", "model" })
        {
            Assert.Contains(command, run.Out);
        }
    }
}
