using Mage.Inference.Generation;
using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Runtime;

/// <summary>The decoding schedule with its loop state on the model's device.</summary>
public sealed partial class MageModel
{
    /// <summary>Most rows of one transformer call in <see cref="Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/> when batches are not fixed.</summary>
    internal const int MaxNaturalChunk = 64;

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
    /// Runs the decoding schedule (MODEL.md section 4) for a batch of rows with every step's
    /// tensors on the model's device: the ids, the encoder output and the logits never leave it
    /// between steps. Each step uploads only the row's random draws (3 KB a row) and reads back
    /// one flag a row; the chosen ids come back after the last step.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The same schedule as the host loop (<see cref="IterativeDecoder"/>): both take their rows,
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
    /// Runs the same decoding schedule with its loop on the host (<see cref="IterativeDecoder"/>):
    /// one <see cref="Logits"/> call per step for the rows that still have unknown positions, the
    /// ids chosen in host memory. The reference that
    /// <see cref="Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/>
    /// is measured against; <see cref="Engine.MageEngine"/> runs this loop with the model calls of
    /// concurrent requests merged (<see cref="Engine.DecodeLoop.Host"/>).
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
        IterativeDecoder.DecodeAsync(rows, options, LogitsAsync, progress, cancellationToken).AsTask();

    /// <summary>
    /// Produces the logits of a batch of ids without leaving the device: the logits value and the
    /// owner of everything behind it, disposed once the sampler has read it.
    /// </summary>
    internal delegate (OrtValue Logits, IDisposable Owner) DeviceLogitsFunction(OrtValue ids, OrtMemoryInfo device, RunOptions runOptions);

    /// <summary><see cref="Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/> with any source of logits (tests drive the sampler with stand-in logits).</summary>
    internal long[][] Decode(
        IReadOnlyList<DecodeRow> rows, DecodeOptions options, DeviceLogitsFunction logitsOnDevice, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var schedule = DecodeSchedule.Prepare(rows, options);
        var active = schedule.Active;
        if (active.Count == 0)
        {
            return schedule.Results;
        }

        // Rows go in the pieces of the transformer's batch plan: fixed-size or bucketed calls (the
        // last padded with all-unknown rows whose results are dropped), or natural ones of at most
        // MaxNaturalChunk rows, which bounds the sampler's working memory (about 10 MiB a row).
        // The chunks advance in lock-step.
        using var run = new CancellableRun(cancellationToken);
        using var gpu = Device.IsCuda
            ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, Device.DeviceId, OrtMemType.Default)
            : null;
        var onDevice = gpu ?? OrtMemoryInfo.DefaultInstance;
        using var sampleValue = Tensor(new[] { !options.Deterministic }.AsMemory(), 1);
        var chunks = new List<DecodeChunk>();
        try
        {
            run.Execute(runOptions =>
            {
                foreach (var piece in transformerPlan.Split(active.Count, MaxNaturalChunk))
                {
                    chunks.Add(new DecodeChunk(active.Skip(piece.Start).Take(piece.Rows).ToList(), piece.Size));
                }

                for (var step = 0; step < options.Steps; step++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    foreach (var chunk in chunks)
                    {
                        chunk.Step(this, schedule, step, logitsOnDevice, onDevice, sampleValue, runOptions);
                    }

                    progress?.Report(step + 1);
                }
            });
        }
        finally
        {
            foreach (var chunk in chunks)
            {
                chunk.Dispose();
            }
        }

        foreach (var chunk in chunks)
        {
            chunk.CopyResults(schedule.Results);
        }

        return schedule.Results;
    }

    /// <summary>
    /// The loop state of one transformer batch: host buffers for the per-step inputs and the final
    /// ids, and the device-resident ids of the next step.
    /// </summary>
    private sealed class DecodeChunk : IDisposable
    {
        private readonly List<ActiveRow> rows;
        private readonly double[] uniform;
        private readonly float[] noise;
        private readonly float[] scheduled;
        private readonly bool[] rowOk;
        private readonly long[] sampled;
        private readonly OrtValue initialIds;
        private readonly OrtValue uniformValue;
        private readonly OrtValue noiseValue;
        private readonly OrtValue scheduledValue;
        private readonly OrtValue rowOkValue;
        private readonly OrtValue sampledValue;
        private IDisposableReadOnlyCollection<OrtValue>? previous;

        public DecodeChunk(List<ActiveRow> members, int size)
        {
            rows = members;
            var ids = new long[size * MageTokens.SequenceLength];
            var padding = new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, MageTokens.Count).ToArray(), 0, 0);
            for (var i = 0; i < size; i++)
            {
                var row = ids.AsSpan(i * MageTokens.SequenceLength, MageTokens.SequenceLength);
                WritePaddingRow(row);
                if (i < members.Count)
                {
                    members[i].Row.InitialTokens.CopyTo(row[1..]);
                }
                else
                {
                    rows.Add(new ActiveRow(-1, padding, MageTokens.Count));
                }
            }

            uniform = new double[size * MageTokens.Count];
            noise = new float[size * MageTokens.Count];
            scheduled = new float[size];
            rowOk = new bool[size];
            sampled = new long[size * MageTokens.Count];
            initialIds = Tensor(ids.AsMemory(), size, MageTokens.SequenceLength);
            uniformValue = Tensor(uniform.AsMemory(), size, MageTokens.Count);
            noiseValue = Tensor(noise.AsMemory(), size, MageTokens.Count);
            scheduledValue = Tensor(scheduled.AsMemory(), size);
            rowOkValue = Tensor(rowOk.AsMemory(), size);
            sampledValue = Tensor(sampled.AsMemory(), size, MageTokens.Count);
        }

        public void Step(MageModel model, DecodeSchedule schedule, int step, DeviceLogitsFunction logitsOnDevice, OrtMemoryInfo onDevice, OrtValue sampleValue, RunOptions runOptions)
        {
            var last = schedule.IsLastStep(step);
            WriteStepInputs(rows, schedule, step, uniform, noise, scheduled);
            var current = previous is null ? initialIds : previous[0];
            var (logits, logitsOwner) = logitsOnDevice(current, onDevice, runOptions);
            using var ownsLogits = logitsOwner;
            using var binding = model.sampler.CreateIoBinding();
            binding.BindInput("ids", current);
            binding.BindInput("logits", logits);
            binding.BindInput("uniform", uniformValue);
            binding.BindInput("noise", noiseValue);
            binding.BindInput("scheduled", scheduledValue);
            binding.BindInput("sample", sampleValue);
            binding.BindOutputToDevice("next_ids", onDevice);
            if (last)
            {
                binding.BindOutput("sampled", sampledValue);
            }
            else
            {
                binding.BindOutputToDevice("sampled", onDevice);
            }

            binding.BindOutput("row_ok", rowOkValue);

            // Run returns after the host-bound outputs are written; no device-wide synchronisation
            // (which fails while another thread's cuDNN call captures a CUDA graph).
            model.sampler.RunWithBinding(runOptions, binding);
            var outputs = binding.GetOutputValues();
            previous?.Dispose();
            previous = outputs;

            var bad = Array.IndexOf(rowOk, false);
            if (bad >= 0)
            {
                throw new InvalidOperationException(
                    $"The model returned a non-finite logit for row {rows[bad].Index} at step {step}.");
            }
        }

        public void CopyResults(long[][] results)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (rows[i].Index >= 0)
                {
                    sampled.AsSpan(i * MageTokens.Count, MageTokens.Count).CopyTo(results[rows[i].Index]);
                }
            }
        }

        public void Dispose()
        {
            previous?.Dispose();
            initialIds.Dispose();
            uniformValue.Dispose();
            noiseValue.Dispose();
            scheduledValue.Dispose();
            rowOkValue.Dispose();
            sampledValue.Dispose();
        }
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

    /// <summary>
    /// The host's part of one step: the counter-based random draws of every position (the same
    /// keys as the host loop) and each row's scheduled mask length.
    /// </summary>
    private static void WriteStepInputs(
        List<ActiveRow> active, DecodeSchedule schedule, int step, double[] uniform, float[] noise, float[] scheduled)
    {
        var ratio = schedule.Ratio(step);
        for (var i = 0; i < active.Count; i++)
        {
            scheduled[i] = DecodeSchedule.ScheduledMaskLength(active[i].InitialUnknown, ratio);
        }

        if (schedule.Options.Deterministic)
        {
            return;
        }

        void Row(int i)
        {
            var row = active[i].Row;
            var offset = i * MageTokens.Count;
            for (var p = 0; p < MageTokens.Count; p++)
            {
                uniform[offset + p] = DecodeSchedule.Uniform(row, step, p);
                noise[offset + p] = schedule.Noise(row, ratio, step, p);
            }
        }

        if (active.Count == 1)
        {
            Row(0);
        }
        else
        {
            Parallel.For(0, active.Count, Row);
        }
    }
}
