using System.Text.Json;
using Azure.Storage.Blobs;
using Mage.Inference.Numpy;
using Mage.Jobs.Storage;
using SixLabors.ImageSharp;

namespace Mage.Cli.Tests;

/// <summary>
/// A JPEG cut short is refused as corrupt unless the user opts in: <c>--allow-truncated-jpeg</c>
/// on the commands that read image files, <c>Mage__Limits__AllowTruncatedJpeg</c> for
/// <c>mage worker</c> (whose engine decodes under the service's image limits, as the Functions app's does).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TruncatedJpegOptInTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Embed_refuses_a_truncated_jpeg_unless_allowed()
    {
        var cut = temp["cut.jpg"];
        await File.WriteAllBytesAsync(cut, TruncatedJpeg());

        var refused = await Cli.RunTinyAsync("embed", cut, "--out", temp["refused.npy"]);
        var allowed = await Cli.RunTinyAsync("embed", cut, "--out", temp["allowed.npy"], "--allow-truncated-jpeg");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("is a truncated JPEG", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--allow-truncated-jpeg", refused.Error, StringComparison.Ordinal);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Equal([1, 64], NpyFile.Read(temp["allowed.npy"]).Shape);
    }

    [Theory]
    [InlineData(false, "error.json")]
    [InlineData(true, "record.json")]
    public async Task Worker_decodes_uploads_under_the_services_truncated_jpeg_setting(bool allow, string expected)
    {
        var prefix = allow ? "jpeg-on" : "jpeg-off";
        var environment = StorageNames.Environment(prefix);
        if (allow)
        {
            environment["Mage__Limits__AllowTruncatedJpeg"] = "true";
        }

        var blobs = new BlobServiceClient(azurite.ConnectionString);
        var uploads = blobs.GetBlobContainerClient($"{prefix}-uploads");
        await uploads.CreateIfNotExistsAsync();
        var blob = uploads.GetBlobClient("cut.jpg");
        await blob.UploadAsync(BinaryData.FromBytes(TruncatedJpeg()), overwrite: true);
        var folder = ResultsLayout.UploadFolder("cut.jpg", (await blob.GetPropertiesAsync()).Value.ETag.ToString(), nameIsValid: true);

        await using var worker = MageProcess.Start(environment, "worker", "--once", "--connection", azurite.ConnectionString, "--model", Cli.TinyPackage, "--device", "cpu");
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(120)));

        var results = blobs.GetBlobContainerClient($"{prefix}-results");
        Assert.True((await results.GetBlobClient(folder + expected).ExistsAsync()).Value, $"no {folder}{expected}\n{worker}");
        if (!allow)
        {
            using var error = JsonDocument.Parse((await results.GetBlobClient(folder + "error.json").DownloadContentAsync()).Value.Content.ToString());
            Assert.Equal("corrupt", error.RootElement.GetProperty("reason").GetString());
            Assert.Contains("truncated JPEG", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>A baseline JPEG of a test image, cut at two thirds of its bytes (no end-of-image marker).</summary>
    private static byte[] TruncatedJpeg()
    {
        using var image = TestImages.Create(64, 64, seed: 5);
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);
        var bytes = stream.ToArray();
        return bytes[..(bytes.Length * 2 / 3)];
    }
}
