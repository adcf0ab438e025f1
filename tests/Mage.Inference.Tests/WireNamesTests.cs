using System.Text.Json;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Inference.Tests;

public sealed class WireNamesTests
{
    [Fact]
    public void Every_wire_enum_has_the_documented_names()
    {
        // Written out by hand: these are the names users type and documents hold.
        Assert.Equal(["linprobe", "cls", "mean"], WireNames.All<FeaturePooling>());
        Assert.Equal(["linprobe", "square", "none"], WireNames.All<PreprocessMode>());
    }

    [Theory]
    [InlineData("linprobe", PreprocessMode.Linprobe)]
    [InlineData("SQUARE", PreprocessMode.Square)]
    [InlineData(" None ", PreprocessMode.None)]
    public void Parse_ignores_case_and_surrounding_space(string name, PreprocessMode expected)
    {
        Assert.Equal(expected, WireNames.Parse<PreprocessMode>(name, "preprocess"));
        Assert.Equal(expected, WireNames.Parse<PreprocessMode>(WireNames.Of(expected), "preprocess"));
    }

    [Theory]
    [InlineData("crop")]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("")]
    [InlineData("linprobe,square")]
    public void Parse_lists_the_valid_names(string name)
    {
        var ex = Assert.Throws<InvalidRequestException>(() => WireNames.Parse<PreprocessMode>(name, "preprocess"));

        Assert.Contains($"preprocess '{name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'linprobe', 'square', 'none'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_writes_and_reads_the_wire_names()
    {
        var json = JsonSerializer.Serialize(new Holder(FeaturePooling.Cls, PreprocessMode.None));

        Assert.Equal("""{"Pooling":"cls","Preprocess":"none"}""", json);
        Assert.Equal(new Holder(FeaturePooling.Mean, PreprocessMode.Square), JsonSerializer.Deserialize<Holder>("""{"Pooling":"Mean","Preprocess":"square"}"""));
    }

    [Theory]
    [InlineData("""{"Pooling":"max","Preprocess":"square"}""", "'max' is not one of 'linprobe', 'cls', 'mean'", "$.Pooling")]
    [InlineData("""{"Pooling":1,"Preprocess":"square"}""", "as a string", "$.Pooling")]
    [InlineData("""{"Pooling":"1","Preprocess":"square"}""", "'1' is not one of", "$.Pooling")]
    [InlineData("""{"Pooling":"cls","Preprocess":null}""", "as a string", "$.Preprocess")]
    public void Json_refuses_unknown_names_and_numbers_naming_the_member(string json, string part, string path)
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Holder>(json));

        Assert.Contains(part, ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void Of_refuses_an_undeclared_value()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WireNames.Of((FeaturePooling)7));
    }

    private sealed record Holder(FeaturePooling Pooling, PreprocessMode Preprocess);
}
