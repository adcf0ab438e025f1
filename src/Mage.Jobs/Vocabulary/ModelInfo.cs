using Mage.Inference.Runtime;

namespace Mage.Jobs.Vocabulary;

/// <summary>The model that produced a result.</summary>
public sealed record ModelInfo(string Arch, string PackageHash, string Precision, int FeatureDim, string Device)
{
    /// <summary>The description of a loaded model, as every record states it.</summary>
    public static ModelInfo Of(MageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var package = model.Package;
        return new ModelInfo(package.Manifest.Arch, package.ContentHash, package.Manifest.Precision, package.FeatureDim, model.Device.Description);
    }
}
