using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Decoding;

/// <summary>
/// Produces the logits of a batch of ids without leaving the device: the logits value and the
/// owner of everything behind it, disposed once the sampler has read it. The device loop's only
/// link to the encoder and decoder (<see cref="DeviceDecodeLoop"/>).
/// </summary>
internal delegate (OrtValue Logits, IDisposable Owner) DeviceLogitsFunction(OrtValue ids, OrtMemoryInfo device, RunOptions runOptions);
