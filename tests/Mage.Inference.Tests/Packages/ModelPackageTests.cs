using System.Text.Json.Nodes;
using Mage.Inference.Packages;

namespace Mage.Inference.Tests.Packages;

public sealed class ModelPackageTests
{
    [Fact]
    public void Loads_the_committed_tiny_package_and_verifies_every_file()
    {
        var package = ModelPackage.Load(Fixtures.TinyPackage);
        Assert.True(package.HashesVerified);
        Assert.Equal("tiny", package.Manifest.Arch);
        Assert.Equal(64, package.FeatureDim);
        Assert.True(package.Manifest.Source.IsRandom);
        Assert.Equal(16, package.ContentHash.Length);
        Assert.True(File.Exists(package.GraphPath("decoder")));
    }

    [Fact]
    public void A_changed_byte_is_reported_with_the_file_name()
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        var path = Path.Combine(copy.Path, "encoder.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains("encoder.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
        ModelPackage.Load(copy.Path, verifyHashes: false); // a caller may skip the check deliberately
    }

    [Fact]
    public void A_truncated_or_missing_file_is_reported()
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        var path = Path.Combine(copy.Path, "decoder.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..1000]);
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains("decoder.onnx has 1000 bytes", e.Message, StringComparison.Ordinal);
        File.Delete(path);
        e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains("decoder.onnx is listed in the manifest but missing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mask_id", "2000", "'mask_id' is 2000")]
    [InlineData("format_version", "2", "'format_version' is 2")]
    [InlineData("precision", "\"int4\"", "precision 'int4' is not one of fp32, fp16, int8")]
    [InlineData("quantizer", "\"float16\"", "quantizer 'float16' is not one of float32, float64")]
    public void Manifest_constants_this_version_cannot_run_are_rejected(string field, string value, string expected)
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        EditManifest(copy, json => json[field] = JsonNode.Parse(value));
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_committed_package_computes_token_distances_in_float64()
    {
        var manifest = ModelPackage.Load(Fixtures.TinyPackage).Manifest;
        Assert.Equal("float64", manifest.Quantizer);
        Assert.True(manifest.TokensIgnoreTf32);
    }

    [Fact]
    public void A_manifest_without_a_quantizer_reads_as_float32()
    {
        // Packages exported before the field existed searched nearest codes in float32.
        using var copy = Fixtures.CopyOfTinyPackage();
        EditManifest(copy, json => Assert.True(json.Remove("quantizer")));
        var manifest = ModelPackage.Load(copy.Path).Manifest;
        Assert.Equal("float32", manifest.Quantizer);
        Assert.False(manifest.TokensIgnoreTf32);
    }

    [Theory]
    [InlineData("fp32", "[\"vqgan.encoder.conv_out\"]", "float_convolutions lists 1 layers, but only int8 packages quantize convolutions; precision is 'fp32'")]
    [InlineData("int8", "[\"encoder.blocks.0\"]", "float_convolutions entry 'encoder.blocks.0' is not a VQGAN layer name")]
    public void Float_convolutions_name_VQGAN_layers_of_int8_packages(string precision, string layers, string expected)
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        EditManifest(copy, json =>
        {
            json["precision"] = precision;
            json["float_convolutions"] = JsonNode.Parse(layers);
        });
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_int8_manifest_lists_its_float_convolutions_and_older_ones_list_none()
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        Assert.Empty(ModelPackage.Load(copy.Path).Manifest.FloatConvolutions);
        EditManifest(copy, json =>
        {
            json["precision"] = "int8";
            json["float_convolutions"] = JsonNode.Parse("[\"vqgan.encoder.conv_out\", \"vqgan.decoder.conv_in\"]");
        });
        Assert.Equal(["vqgan.encoder.conv_out", "vqgan.decoder.conv_in"], ModelPackage.Load(copy.Path).Manifest.FloatConvolutions);
    }

    [Fact]
    public void Graph_names_may_not_leave_the_package()
    {
        using var copy = Fixtures.CopyOfTinyPackage();
        EditManifest(copy, json => json["graphs"]!["encoder"] = "../../etc/passwd");
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(copy.Path));
        Assert.Contains("must be a plain file name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_a_package_and_bad_json_are_clear()
    {
        using var empty = new TempFolder();
        Assert.Contains("has no manifest.json", Assert.Throws<ModelPackageException>(() => ModelPackage.Load(empty.Path)).Message, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(empty.Path, "manifest.json"), "{ not json");
        Assert.Contains("is not valid JSON", Assert.Throws<ModelPackageException>(() => ModelPackage.Load(empty.Path)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ModelPackageException>(() => ModelPackage.Load(Path.Combine(empty.Path, "nope"))).Message, StringComparison.Ordinal);
    }

    /// <summary>Rewrites the manifest.json of a package copy (not listed in its own file hashes).</summary>
    private static void EditManifest(TempFolder copy, Action<JsonObject> edit)
    {
        var path = Path.Combine(copy.Path, "manifest.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
