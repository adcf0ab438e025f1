namespace Mage.Inference.Runtime;

/// <summary>The execution provider a model runs on, as chosen at load.</summary>
/// <param name="IsCuda">True when the CUDA provider runs the graphs.</param>
/// <param name="DeviceId">The CUDA device ordinal, 0 on the CPU.</param>
/// <param name="Description">A human-readable description for logs and records.</param>
public sealed record ExecutionDevice(bool IsCuda, int DeviceId, string Description);
