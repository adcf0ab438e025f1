namespace Mage.Inference.Decoding;

/// <summary>Where the decoding schedule runs between model calls.</summary>
public enum DecodeLoop
{
    /// <summary>On the device when the model runs on CUDA, else on the host.</summary>
    Auto,

    /// <summary>
    /// On the host (<see cref="HostDecodeLoop"/>): each step's logits come back to
    /// host memory, and rows of concurrent requests share every model call through the logits
    /// batcher. The faster choice on the CPU.
    /// </summary>
    Host,

    /// <summary>
    /// On the device (<see cref="DeviceDecodeLoop"/>, through <see cref="Runtime.MageModel.Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/>):
    /// ids, encoder outputs and logits stay on the GPU between steps and the sampler graph picks
    /// the ids there; concurrent requests with the same settings are merged into one decode.
    /// </summary>
    Device,
}
