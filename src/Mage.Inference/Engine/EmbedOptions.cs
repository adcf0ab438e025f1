using Mage.Inference.Imaging;
using Mage.Inference.Runtime;

namespace Mage.Inference.Engine;

/// <summary>How to turn an image into an embedding.</summary>
/// <param name="Pooling">Which feature (docs/model.md#pooling-modes); <see cref="MageDefaults.Pooling"/> by default.</param>
/// <param name="Normalize">Scale the feature to unit L2 norm.</param>
/// <param name="Preprocess">How the image becomes 256x256; <see cref="MageDefaults.EmbedPreprocess"/> by default.</param>
public sealed record EmbedOptions(
    FeaturePooling Pooling = MageDefaults.Pooling,
    bool Normalize = false,
    PreprocessMode Preprocess = MageDefaults.EmbedPreprocess);
