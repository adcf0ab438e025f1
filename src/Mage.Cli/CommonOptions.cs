using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Mage.Inference.Batching;
using Mage.Inference.Imaging;

namespace Mage.Cli;

/// <summary>
/// The options every command takes (<c>--model</c>, <c>--device</c>, <c>--batch-size</c>) and
/// factories for the ones several commands share. Option instances here are shared by commands;
/// System.CommandLine allows a symbol to have several parents.
/// </summary>
internal sealed partial class CommonOptions
{
    public Option<string?> Model { get; } = new("--model")
    {
        Description = "Model package folder (see tools/export). Default: the bundled tiny random-weight package, whose outputs are not meaningful.",
        HelpName = "DIR",
    };

    public Option<string> Device { get; } = new("--device")
    {
        Description = "Where to run: auto (CUDA if available, else CPU), cpu, cuda or cuda:N.",
        DefaultValueFactory = _ => "auto",
        HelpName = "auto|cpu|cuda[:N]",
    };

    public Option<int> BatchSize { get; } = new("--batch-size")
    {
        Description = "Largest batch sent to the model (tokenizer, encoder, decoder, detokenizer).",
        DefaultValueFactory = _ => 16,
        HelpName = "N",
    };

    public CommonOptions()
    {
        Device.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!DevicePattern().IsMatch(value))
            {
                result.AddError($"--device '{value}' is not valid; use auto, cpu, cuda or cuda:N (N = 0..99).");
            }
        });
        BatchSize.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value is < BatcherOptions.MinBatchSize or > BatcherOptions.MaxBatchSizeLimit)
            {
                result.AddError($"--batch-size {value} is out of range {BatcherOptions.MinBatchSize}..{BatcherOptions.MaxBatchSizeLimit}.");
            }
        });
    }

    /// <summary>Adds <c>--model</c>, <c>--device</c> and <c>--batch-size</c> to a command.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Device);
        command.Options.Add(BatchSize);
    }

    public static Option<string> Preprocess(string defaultMode) => Choice(
        "--preprocess",
        $"How each image becomes the model's 256x256 input: linprobe (resize to 292, centre crop), square (resize to 256, centre crop) or none (must already be 256x256). Default: {defaultMode}.",
        defaultMode,
        "linprobe", "square", "none");

    public static PreprocessMode ParsePreprocess(string name) => ImagePreprocessor.ParseMode(name);

    /// <summary>A string option that accepts only <paramref name="choices"/>; a wrong value's error lists them.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = string.Join('|', choices),
        };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    public static Option<int> Steps(int defaultValue) => Positive("--steps", $"Decoding iterations. Default: {defaultValue}.", defaultValue, 1, 256);

    public static Option<double> Temperature(double defaultValue)
    {
        var option = new Option<double>("--temperature")
        {
            Description = $"Choice temperature of the sampling noise (0 or more). Default: {defaultValue.ToString(CultureInfo.InvariantCulture)}.",
            DefaultValueFactory = _ => defaultValue,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<double>();
            if (!double.IsFinite(value) || value < 0)
            {
                result.AddError($"--temperature {value.ToString(CultureInfo.InvariantCulture)} must be a finite number, 0 or more.");
            }
        });
        return option;
    }

    public static Option<ulong> Seed(bool required) => new("--seed")
    {
        Description = "Seed of the sampling (0 .. 2^64-1); the same seed gives the same images." + (required ? "" : " Default: 0."),
        Required = required,
        HelpName = "S",
    };

    public static Option<bool> Deterministic() => new("--deterministic")
    {
        Description = "Take the most likely token at each step and add no noise (ignores --temperature and --seed).",
    };

    public static Option<string?> TokensOut() => new("--tokens-out")
    {
        Description = "Also write the generated token ids as an int32 .npy.",
        HelpName = "FILE.npy",
    };

    public static Option<string> Out(string description, string helpName) => new("--out")
    {
        Description = description,
        Required = true,
        HelpName = helpName,
    };

    public static Option<int> Positive(string name, string description, int defaultValue, int min, int max)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                result.AddError($"{name} {value} is out of range {min}..{max}.");
            }
        });
        return option;
    }

    [GeneratedRegex("^(auto|cpu|cuda(:[0-9]{1,2})?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}
