using Mage.Inference.Runtime;
using Mage.Jobs.Options;

namespace Mage.Jobs.Tests.Options;

/// <summary><see cref="ModelSettings.ToModelOptions"/> is the one place the app's model settings reach ONNX Runtime.</summary>
public sealed class ModelSettingsMappingTests
{
    [Fact]
    public void Every_setting_reaches_the_model_options()
    {
        var settings = new ModelSettings
        {
            PackagePath = "/ignored",
            Device = "cuda:1",
            IntraOpThreads = 3,
            Precision = PrecisionMode.PyTorch,
            ConvAlgorithmSearch = ConvAlgorithmSearch.Heuristic,
            BatchBuckets = "8,64",
            WarmUp = false,
            FixedTransformerBatch = 7,
            MemoryPattern = !MageModelOptions.DefaultMemoryPattern,
            AllowSpinning = !MageModelOptions.DefaultAllowSpinning,
        };

        var options = settings.ToModelOptions("/models/pkg");

        Assert.Equal("/models/pkg", options.PackagePath);
        Assert.Equal("cuda:1", options.Device);
        Assert.Equal(3, options.IntraOpThreads);
        Assert.Equal(PrecisionMode.PyTorch, options.Precision);
        Assert.Equal(ConvAlgorithmSearch.Heuristic, options.ConvAlgorithmSearch);
        Assert.Equal("8,64", options.BatchBuckets);
        Assert.False(options.WarmUp);
        Assert.Equal(7, options.FixedTransformerBatch);
        Assert.Equal(!MageModelOptions.DefaultMemoryPattern, options.MemoryPattern);
        Assert.Equal(!MageModelOptions.DefaultAllowSpinning, options.AllowSpinning);
    }

    [Fact]
    public void Every_model_option_the_settings_also_name_is_mapped()
    {
        // A setting added to both classes but not to ToModelOptions keeps the engine's default:
        // compare every shared property after setting each to a value that differs from it.
        var shared = typeof(ModelSettings).GetProperties()
            .Select(p => (Setting: p, Option: typeof(MageModelOptions).GetProperty(p.Name)))
            .Where(p => p.Option is not null && p.Setting.CanWrite && p.Setting.Name != nameof(ModelSettings.PackagePath))
            .ToArray();
        Assert.Contains(shared, p => p.Setting.Name == nameof(ModelSettings.AllowSpinning));
        Assert.Contains(shared, p => p.Setting.Name == nameof(ModelSettings.Precision));

        var settings = new ModelSettings();
        foreach (var (setting, _) in shared)
        {
            setting.SetValue(settings, setting.PropertyType switch
            {
                var t when t == typeof(bool) => !(bool)setting.GetValue(settings)!,
                var t when t == typeof(int) => (int)setting.GetValue(settings)! + 5,
                var t when t == typeof(string) => "cpu",
                var t when t == typeof(bool?) => !((bool?)setting.GetValue(settings) ?? false),
                var t when t.IsEnum => Enum.GetValues(t).Cast<object>().First(v => !v.Equals(setting.GetValue(settings))),
                var t => throw new InvalidOperationException($"No test value for {setting.Name} of type {t.Name}."),
            });
        }

        var options = settings.ToModelOptions("/models/pkg");

        Assert.All(shared, p => Assert.Equal(p.Setting.GetValue(settings), p.Option!.GetValue(options)));
    }
}
