using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Inference.Tests;

public sealed class MageDefaultsTests
{
    [Theory]
    [InlineData(1, null)]
    [InlineData(64, null)]
    [InlineData(0, "steps 0 must be between 1 and 64.")]
    [InlineData(65, "steps 65 must be between 1 and 64.")]
    public void CheckSteps_is_the_one_step_limit(int steps, string? expected) =>
        Assert.Equal(expected, MageDefaults.CheckSteps(steps, "steps"));

    [Theory]
    [InlineData(0.0, null)]
    [InlineData(100.0, null)]
    [InlineData(-0.5, "--temperature -0.5 must be a finite number between 0 and 100.")]
    [InlineData(100.5, "--temperature 100.5 must be a finite number between 0 and 100.")]
    [InlineData(double.NaN, "--temperature NaN must be a finite number between 0 and 100.")]
    public void CheckTemperature_is_the_one_temperature_limit(double temperature, string? expected) =>
        Assert.Equal(expected, MageDefaults.CheckTemperature(temperature, "--temperature"));

    [Fact]
    public void The_request_records_default_to_the_documented_schedules()
    {
        // MAGE's FID setting for generation, MaskGIT's editing setting for edits (docs/model.md#decode-schedule).
        var generate = new GenerateRequest(Count: 1, Seed: 0);
        var edit = new EditOptions();
        Assert.Equal((20, 6.0), (generate.Steps, generate.Temperature));
        Assert.Equal((12, 4.5), (edit.Steps, edit.Temperature));
        Assert.Equal(8, edit.FeatherPixels);
        Assert.Equal(FeaturePooling.Linprobe, new EmbedOptions().Pooling);
        Assert.Equal(PreprocessMode.Linprobe, new EmbedOptions().Preprocess);
    }
}
