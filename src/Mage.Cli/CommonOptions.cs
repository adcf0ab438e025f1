using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Mage.Inference;
using Mage.Inference.Batching;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Cli;

/// <summary>
/// The options every command takes (<c>--model</c>, <c>--device</c>, <c>--precision</c>, <c>--batch-size</c>) and
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

    public Option<PrecisionMode> Precision { get; } = Choice(
        "--precision",
        "How much precision CUDA may trade for speed: exact (float32, seeded images independent of the batch), pytorch (PyTorch's CUDA defaults: TF32 convolutions) or fast (TF32 everywhere). The CPU computes float32 in every mode.",
        MageModelOptions.DefaultPrecision);

    public Option<int> BatchSize { get; } = new("--batch-size")
    {
        Description = "Largest batch sent to the model (tokenizer, encoder, decoder, detokenizer).",
        DefaultValueFactory = _ => 16,
        HelpName = "N",
    };

    public Option<bool> AllowTruncatedJpeg { get; } = new("--allow-truncated-jpeg")
    {
        Description = "Decode a JPEG that ends before its end-of-image marker, its missing part made up (black or blurred), instead of refusing it as corrupt.",
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

    /// <summary>Adds <c>--model</c>, <c>--device</c>, <c>--precision</c> and <c>--batch-size</c> to a command.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Device);
        command.Options.Add(Precision);
        command.Options.Add(BatchSize);
    }

    /// <summary>The model options the parsed command line asks for (<c>--device</c>, <c>--precision</c>) for the package in <paramref name="folder"/>.</summary>
    public MageModelOptions ModelOptions(ParseResult parse, string folder) =>
        new() { PackagePath = folder, Device = parse.GetValue(Device)!, Precision = parse.GetValue(Precision) };

    /// <summary>Adds the options of commands that decode image files (<c>--allow-truncated-jpeg</c>).</summary>
    public void AddImageOptionsTo(Command command) => command.Options.Add(AllowTruncatedJpeg);

    /// <summary>The image limits the parsed command line asks for.</summary>
    public ImageLimits ImageLimits(ParseResult parse) => Inference.Imaging.ImageLimits.Default with { AllowTruncatedJpeg = parse.GetValue(AllowTruncatedJpeg) };

    public static Option<PreprocessMode> Preprocess(PreprocessMode defaultMode) => Choice(
        "--preprocess",
        "How each image becomes the model's 256x256 input: linprobe (resize to 292, centre crop), square (resize to 256, centre crop) or none (must already be 256x256).",
        defaultMode);

    /// <summary>
    /// An option that takes the <see cref="WireNames"/> of <typeparamref name="TEnum"/>; a wrong
    /// value's error lists them. The description names the default.
    /// </summary>
    public static Option<TEnum> Choice<TEnum>(string name, string description, TEnum defaultValue)
        where TEnum : struct, Enum
    {
        var option = new Option<TEnum>(name)
        {
            Description = $"{description} Default: {WireNames.Of(defaultValue)}.",
            DefaultValueFactory = _ => defaultValue,
            HelpName = string.Join('|', WireNames.All<TEnum>()),
            CustomParser = result => ParseChoice<TEnum>(result, name) ?? defaultValue,
        };
        option.CompletionSources.Add([.. WireNames.All<TEnum>()]);
        return option;
    }

    /// <summary>Like <see cref="Choice{TEnum}(string, string, TEnum)"/> without a default of the CLI's own (absent = null: the service decides).</summary>
    public static Option<TEnum?> OptionalChoice<TEnum>(string name, string description)
        where TEnum : struct, Enum
    {
        var option = new Option<TEnum?>(name)
        {
            Description = description,
            HelpName = string.Join('|', WireNames.All<TEnum>()),
            CustomParser = result => ParseChoice<TEnum>(result, name),
        };
        option.CompletionSources.Add([.. WireNames.All<TEnum>()]);
        return option;
    }

    public static Option<int> Steps(int defaultValue)
    {
        var option = new Option<int>("--steps") { Description = $"Decoding iterations, 1..{MageDefaults.MaxSteps}. Default: {defaultValue}.", DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (MageDefaults.CheckSteps(result.GetValueOrDefault<int>(), "--steps") is { } problem)
            {
                result.AddError(problem);
            }
        });
        return option;
    }

    public static Option<double> Temperature(double defaultValue)
    {
        var option = new Option<double>("--temperature")
        {
            Description = string.Create(CultureInfo.InvariantCulture, $"Choice temperature of the sampling noise, 0..{MageDefaults.MaxTemperature}. Default: {defaultValue}."),
            DefaultValueFactory = _ => defaultValue,
        };
        option.Validators.Add(result =>
        {
            if (MageDefaults.CheckTemperature(result.GetValueOrDefault<double>(), "--temperature") is { } problem)
            {
                result.AddError(problem);
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
        Description = "Also write the generated token ids as an int64 .npy.",
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

    private static TEnum? ParseChoice<TEnum>(System.CommandLine.Parsing.ArgumentResult result, string name)
        where TEnum : struct, Enum
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (WireNames.TryParse<TEnum>(token, out var value))
        {
            return value;
        }

        result.AddError(WireNames.Unknown<TEnum>(token, name));
        return null;
    }

    [GeneratedRegex("^(auto|cpu|cuda(:[0-9]{1,2})?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}
