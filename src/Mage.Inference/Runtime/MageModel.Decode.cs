using Mage.Inference.Decoding;
using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Runtime;

/// <summary>The entry points of the two decode loops (<see cref="DeviceDecodeLoop"/>, <see cref="HostDecodeLoop"/>) and the graphs the device loop runs.</summary>
public sealed partial class MageModel
{
    /// <summary>Name of the sampler graph in logs, profiles and errors.</summary>
    internal const string SamplerRole = "sampler";

    /// <summary>
    /// One step of the schedule as an ONNX graph (tools/export/mage_export/sampler.py), the same
    /// for every package, so it ships inside this assembly.
    /// </summary>
    internal static readonly Lazy<byte[]> SamplerGraph = new(() =>
    {
        using var stream = typeof(MageModel).Assembly.GetManifestResourceStream("Mage.Inference.sampler.onnx")
            ?? throw new InvalidOperationException("The sampler graph is missing from Mage.Inference; the assembly was built without Runtime/sampler.onnx.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>
    /// Runs the decoding schedule (docs/model.md#decode-schedule) for a batch of rows with every step's
    /// tensors on the model's device: the ids, the encoder output and the logits never leave it
    /// between steps. Each step uploads only the row's random draws (3 KB a row) and reads back
    /// one flag a row; the chosen ids come back after the last step.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The same schedule as the host loop (<see cref="HostDecodeLoop"/>): both take their rows,
    /// mask lengths and random numbers from one schedule, and the sampler graph mirrors the host
    /// code operation for operation. On the CPU provider both give the same ids; on CUDA, kernels
    /// round differently from the host, so a sample or a cut-off that falls on a rounding boundary
    /// can differ (rare; measured in docs/benchmarks.md).
    /// </para>
    /// <para>Thread-safe like every method of the model; blocks the calling thread.</para>
    /// </remarks>
    /// <param name="rows">The images to decode; at most 1024, as for the host loop.</param>
    /// <param name="options">Steps, temperature and mode, shared by all rows.</param>
    /// <param name="progress">Receives the number of completed steps after each step.</param>
    /// <param name="cancellationToken">Checked before every step; stops a graph in progress.</param>
    /// <returns>For each input row, in order, 256 codebook ids.</returns>
    /// <exception cref="InvalidRequestException">A row or an option is invalid.</exception>
    /// <exception cref="InvalidOperationException">The model produced a non-finite logit at an unknown position.</exception>
    public long[][] Decode(IReadOnlyList<DecodeRow> rows, DecodeOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        Decode(rows, options, EncodeAndDecodeOnDevice, progress, cancellationToken);

    /// <summary>
    /// Runs the same decoding schedule with its loop on the host (<see cref="HostDecodeLoop"/>):
    /// one <see cref="Logits"/> call per step for the rows that still have unknown positions, the
    /// ids chosen in host memory. The reference that
    /// <see cref="Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/>
    /// is measured against; <see cref="Engine.MageEngine"/> runs this loop with the model calls of
    /// concurrent requests merged (<see cref="DecodeLoop.Host"/>).
    /// </summary>
    /// <remarks>Thread-safe like every method of the model; the model calls block the calling thread.</remarks>
    /// <param name="rows">The images to decode; at most 1024.</param>
    /// <param name="options">Steps, temperature and mode, shared by all rows.</param>
    /// <param name="progress">Receives the number of completed steps after each step.</param>
    /// <param name="cancellationToken">Checked before every step; stops a graph in progress.</param>
    /// <returns>For each input row, in order, 256 codebook ids.</returns>
    /// <exception cref="InvalidRequestException">A row or an option is invalid.</exception>
    /// <exception cref="InvalidOperationException">The model produced a non-finite logit.</exception>
    public Task<long[][]> DecodeOnHostAsync(IReadOnlyList<DecodeRow> rows, DecodeOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        HostDecodeLoop.DecodeAsync(rows, options, LogitsAsync, progress, cancellationToken).AsTask();

    /// <summary><see cref="Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/> with any source of logits (tests drive the sampler with stand-in logits).</summary>
    internal long[][] Decode(
        IReadOnlyList<DecodeRow> rows, DecodeOptions options, DeviceLogitsFunction logitsOnDevice, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var schedule = DecodeSchedule.Prepare(rows, options);
        if (schedule.Active.Count == 0)
        {
            return schedule.Results;
        }

        using var gpu = Device.IsCuda
            ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, Device.DeviceId, OrtMemType.Default)
            : null;
        return DeviceDecodeLoop.Run(schedule, sampler, transformerPlan, gpu ?? OrtMemoryInfo.DefaultInstance, logitsOnDevice, progress, cancellationToken);
    }

    /// <summary>The encoder and decoder with the encoder output and the logits left on the device.</summary>
    private (OrtValue Logits, IDisposable Owner) EncodeAndDecodeOnDevice(OrtValue ids, OrtMemoryInfo device, RunOptions runOptions)
    {
        var logits = EncodeAndDecode(ids, device, runOptions, hostLogits: null);
        return (logits[0], logits);
    }

    /// <summary>
    /// The encoder, then the decoder, with the encoder output bound straight from one into the other
    /// on <paramref name="device"/>; the logits go to <paramref name="hostLogits"/> when given, else
    /// stay on the device. Returns the bound outputs of the decoder, which the caller disposes.
    /// </summary>
    private IDisposableReadOnlyCollection<OrtValue> EncodeAndDecode(OrtValue ids, OrtMemoryInfo device, RunOptions runOptions, OrtValue? hostLogits)
    {
        using var encoderBinding = encoder.CreateIoBinding();
        encoderBinding.BindInput("ids", ids);
        encoderBinding.BindOutputToDevice("encoded", device);
        encoder.RunWithBinding(runOptions, encoderBinding);
        using var encoded = encoderBinding.GetOutputValues();

        using var decoderBinding = decoder.CreateIoBinding();
        decoderBinding.BindInput("encoded", encoded[0]);
        decoderBinding.BindInput("ids", ids);
        if (hostLogits is null)
        {
            decoderBinding.BindOutputToDevice("logits", device);
        }
        else
        {
            decoderBinding.BindOutput("logits", hostLogits);
        }

        // Run returns once host-bound outputs are written; no device-wide synchronisation (which
        // fails while another thread's cuDNN call captures a CUDA graph).
        decoder.RunWithBinding(runOptions, decoderBinding);
        return decoderBinding.GetOutputValues();
    }
}
