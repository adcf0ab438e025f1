using Mage.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Cli.Tests;

/// <summary>The outcome of one in-process <c>mage</c> run.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

internal static class Cli
{
    /// <summary>
    /// The containers the in-process runs' jobs and edits read from, besides the uploads container:
    /// the service reads only allow-listed containers (<c>Mage__Storage__SourceContainers</c>).
    /// Set once, before the first run, for the whole test process; worker processes inherit it.
    /// </summary>
    private const string TestSources = "uploads,photos,tokphotos,bulk,src,w5src";

    static Cli() => Environment.SetEnvironmentVariable("Mage__Storage__SourceContainers", TestSources);

    /// <summary>The src/Mage.Cli build output of the configuration these tests were built in (bin/{Configuration}/net10.0/).</summary>
    public static string BuildOutput => Path.Combine(RepoPaths.Root, "src", "Mage.Cli", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0");

    /// <summary>The tiny package the CLI build copies next to the executable (and so next to the tests).</summary>
    public static string TinyPackage => Path.Combine(AppContext.BaseDirectory, "models", "mage-tiny");

    /// <summary>Runs <c>mage</c> in-process on the CPU with <paramref name="args"/>.</summary>
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>As <see cref="RunAsync"/>, with <c>--model</c> (the tiny package) and <c>--device cpu</c> appended.</summary>
    public static Task<CliRun> RunTinyAsync(params string[] args) =>
        RunAsync([.. args, "--model", TinyPackage, "--device", "cpu"]);
}

/// <summary>Synthetic test images: smooth gradients plus seeded noise, so each one tokenizes differently.</summary>
internal static class TestImages
{
    public static Image<Rgb24> Create(int width, int height, int seed)
    {
        var random = new Random(seed);
        var image = new Image<Rgb24>(width, height);
        var (r0, g0, b0) = (random.Next(256), random.Next(256), random.Next(256));
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgb24(
                        (byte)((r0 + (x * 255 / width)) % 256),
                        (byte)((g0 + (y * 255 / height)) % 256),
                        (byte)((b0 + random.Next(64)) % 256));
                }
            }
        });
        return image;
    }

    public static string SavePng(string path, int width, int height, int seed)
    {
        using var image = Create(width, height, seed);
        File.WriteAllBytes(path, PngEncoding.Encode(image));
        return path;
    }

    public static string SaveJpeg(string path, int width, int height, int seed)
    {
        using var image = Create(width, height, seed);
        image.SaveAsJpeg(path);
        return path;
    }

    public static Image<Rgb24> Load(string path) => Image.Load<Rgb24>(path);
}
