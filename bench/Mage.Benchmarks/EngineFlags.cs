using Mage.Inference;
using Mage.Inference.Runtime;

namespace Mage.Benchmarks;

/// <summary>
/// The engine settings the GPU runs vary (bench/gpu/run.sh), parsed in one place for
/// <c>compare</c>, <c>check</c> and <c>profile</c>: <c>--precision exact|pytorch|fast</c>
/// (<see cref="MageModelOptions.Precision"/>), <c>--conv-search exhaustive|heuristic|default</c>
/// (<see cref="MageModelOptions.ConvAlgorithmSearch"/>), <c>--buckets auto|none|N,N,...</c>
/// (<see cref="MageModelOptions.BatchBuckets"/>), <c>--warm-up</c> / <c>--no-warm-up</c>
/// (<see cref="MageModelOptions.WarmUp"/>). A setting not given keeps the engine's default.
/// </summary>
internal sealed class EngineFlags
{
    private PrecisionMode? precision;
    private ConvAlgorithmSearch? convSearch;
    private string? buckets;
    private bool? warmUp;

    /// <summary>Consumes the option at <paramref name="i"/> (and its value) if it is one of these; false otherwise.</summary>
    /// <exception cref="InvalidRequestException">A value that is not one of the option's.</exception>
    public bool TryParse(string[] args, ref int i)
    {
        switch (args[i])
        {
            case "--precision": precision = WireNames.Parse<PrecisionMode>(args[++i], "--precision"); return true;
            case "--conv-search": convSearch = WireNames.Parse<ConvAlgorithmSearch>(args[++i], "--conv-search"); return true;
            case "--buckets": buckets = args[++i]; return true;
            case "--warm-up": warmUp = true; return true;
            case "--no-warm-up": warmUp = false; return true;
            default: return false;
        }
    }

    /// <summary>The options with the settings given applied; the others keep their defaults.</summary>
    public MageModelOptions Apply(MageModelOptions options)
    {
        options.Precision = precision ?? options.Precision;
        options.ConvAlgorithmSearch = convSearch ?? options.ConvAlgorithmSearch;
        options.BatchBuckets = buckets ?? options.BatchBuckets;
        options.WarmUp = warmUp ?? options.WarmUp;
        return options;
    }

    /// <summary>Adds the settings a model was loaded with to a result object.</summary>
    public static void Describe(IDictionary<string, object> result, MageModel model, MageModelOptions options)
    {
        result["precision_mode"] = WireNames.Of(model.Precision);
        result["conv_search"] = WireNames.Of(options.ConvAlgorithmSearch);
        result["buckets"] = options.BatchBuckets;
        result["warm_up"] = options.WarmUp ?? model.Device.IsCuda;
        result["quantizer"] = model.Package.Manifest.Quantizer;
    }
}
