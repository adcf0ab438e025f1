using Mage.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Decoding;

/// <summary>
/// The decode loop with its state on the model's device (<see cref="MageModel.Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/>):
/// the ids, the encoder output and the logits stay there between steps, and the sampler graph
/// (tools/export/mage_export/sampler.py) picks the ids. Each step uploads only the rows' random
/// draws and scheduled mask lengths (<see cref="DecodeSchedule"/>, the same keys as
/// <see cref="HostDecodeLoop"/>) and reads back one flag a row; the ids come back after the last step.
/// </summary>
/// <remarks>Stateless; each call owns its buffers and values, so calls may run at once.</remarks>
internal static class DeviceDecodeLoop
{
    /// <summary>Most rows of one transformer call when batches are not fixed.</summary>
    public const int MaxNaturalChunk = 64;

    /// <summary>
    /// Runs every step of a prepared schedule that has active rows and writes the chosen ids into
    /// its <see cref="DecodeSchedule.Results"/>, which it returns.
    /// </summary>
    /// <param name="schedule">The validated rows and options.</param>
    /// <param name="sampler">The sampler graph's session.</param>
    /// <param name="transformerPlan">How the transformer's calls are cut and padded.</param>
    /// <param name="onDevice">Where the loop state lives.</param>
    /// <param name="logitsOnDevice">The encoder and decoder, leaving the logits on the device.</param>
    /// <param name="progress">Receives the number of completed steps after each step.</param>
    /// <param name="cancellationToken">Checked before every step; stops a graph in progress.</param>
    public static long[][] Run(
        DecodeSchedule schedule,
        InferenceSession sampler,
        BatchPlan transformerPlan,
        OrtMemoryInfo onDevice,
        DeviceLogitsFunction logitsOnDevice,
        IProgress<int>? progress,
        CancellationToken cancellationToken)
    {
        var active = schedule.Active;
        var options = schedule.Options;

        // Rows go in the runs of the transformer's batch plan: fixed-size or bucketed calls (the
        // last padded with all-unknown rows whose results are dropped), or natural ones of at most
        // MaxNaturalChunk rows, which bounds the sampler's working memory (about 10 MiB a row).
        // The chunks advance in lock-step.
        using var run = new CancellableRun(cancellationToken);
        using var sampleValue = MageModel.Tensor(new[] { !options.Deterministic }.AsMemory(), 1);
        var chunks = new List<DecodeChunk>();
        try
        {
            run.Execute(runOptions =>
            {
                foreach (var batchRun in transformerPlan.Split(active.Count, MaxNaturalChunk))
                {
                    chunks.Add(new DecodeChunk(active.Skip(batchRun.Start).Take(batchRun.Rows).ToList(), batchRun.Size));
                }

                for (var step = 0; step < options.Steps; step++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    foreach (var chunk in chunks)
                    {
                        chunk.Step(sampler, schedule, step, logitsOnDevice, onDevice, sampleValue, runOptions);
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
            var padding = DecodeRow.AllMasked(0, 0);
            for (var i = 0; i < size; i++)
            {
                if (i < members.Count)
                {
                    SequenceRow.Write(members[i].Row.InitialTokens, SequenceRow.Of(ids, i));
                }
                else
                {
                    SequenceRow.WriteAllMasked(SequenceRow.Of(ids, i));
                    rows.Add(new ActiveRow(-1, padding, MageTokens.Count));
                }
            }

            uniform = new double[size * MageTokens.Count];
            noise = new float[size * MageTokens.Count];
            scheduled = new float[size];
            rowOk = new bool[size];
            sampled = new long[size * MageTokens.Count];
            initialIds = MageModel.Tensor(ids.AsMemory(), size, MageTokens.SequenceLength);
            uniformValue = MageModel.Tensor(uniform.AsMemory(), size, MageTokens.Count);
            noiseValue = MageModel.Tensor(noise.AsMemory(), size, MageTokens.Count);
            scheduledValue = MageModel.Tensor(scheduled.AsMemory(), size);
            rowOkValue = MageModel.Tensor(rowOk.AsMemory(), size);
            sampledValue = MageModel.Tensor(sampled.AsMemory(), size, MageTokens.Count);
        }

        public void Step(InferenceSession sampler, DecodeSchedule schedule, int step, DeviceLogitsFunction logitsOnDevice, OrtMemoryInfo onDevice, OrtValue sampleValue, RunOptions runOptions)
        {
            var last = schedule.IsLastStep(step);
            WriteStepInputs(rows, schedule, step, uniform, noise, scheduled);
            var current = previous is null ? initialIds : previous[0];
            var (logits, logitsOwner) = logitsOnDevice(current, onDevice, runOptions);
            using var ownsLogits = logitsOwner;
            using var binding = sampler.CreateIoBinding();
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
            sampler.RunWithBinding(runOptions, binding);
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
}
