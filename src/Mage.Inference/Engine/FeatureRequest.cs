using Mage.Inference.Runtime;

namespace Mage.Inference.Engine;

/// <summary>One request to the feature batcher: a token grid and which pooled feature it wants.</summary>
internal sealed record FeatureRequest(long[] Tokens, FeaturePooling Pooling);
