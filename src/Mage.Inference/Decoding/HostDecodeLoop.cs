using System.Runtime.ExceptionServices;

namespace Mage.Inference.Decoding;

/// <summary>
/// MAGE's iterative parallel decoding (the MaskGIT schedule, docs/model.md#decode-schedule) over
/// a batch of rows, driven by a <see cref="LogitsFunction"/>.
/// </summary>
/// <remarks>
/// <para>
/// Per step t of T and per row: every unknown position takes an id (argmax, or a categorical
/// sample from softmax(logits) by inverse CDF); its confidence is log p(id) (p rounded to float32, the
/// log taken in double and rounded to float32), plus
/// temperature * (1 - (t+1)/T) * Gumbel noise when sampling; known positions have +infinity. With
/// U0 the row's initial number of unknown positions, mask_len = max(1, min(unknown_now - 1,
/// floor(U0 * cos(pi/2 * (t+1)/T)))) and every position whose confidence is at most the
/// mask_len-th smallest becomes unknown again. The result is the ids chosen at the last step.
/// </para>
/// <para>
/// Batch invariance: a row's random numbers are keyed by (Seed, ImageIndex, step, position) with
/// <see cref="CounterRandom"/> and the schedule uses the row's own U0, so a row's result depends
/// only on that row and its logits, never on the batch around it.
/// </para>
/// <para>Thread safety: stateless; concurrent calls are independent.</para>
/// </remarks>
internal static class HostDecodeLoop
{
    private const int LogitsPerRow = MageTokens.Count * MageTokens.CodebookSize;

    /// <summary>
    /// Decodes every row in lock-step, one <paramref name="logits"/> call per step for the rows
    /// that have unknown positions. Rows without unknown positions are returned unchanged and never
    /// reach the model.
    /// </summary>
    /// <param name="rows">The images to decode; at most <see cref="DecodeSchedule.MaxRows"/>.</param>
    /// <param name="options">Steps, temperature and mode, shared by all rows.</param>
    /// <param name="logits">The model; called once per step with the active rows only.</param>
    /// <returns>For each input row, in order, a new array of 256 codebook ids (0..1023).</returns>
    /// <param name="progress">Receives the number of completed steps after each step.</param>
    /// <param name="cancellationToken">Checked before every step and passed to the model.</param>
    /// <exception cref="InvalidRequestException">A row or an option is invalid.</exception>
    /// <exception cref="InvalidOperationException">The logits function produced a non-finite value.</exception>
    public static async ValueTask<long[][]> DecodeAsync(
        IReadOnlyList<DecodeRow> rows,
        DecodeOptions options,
        LogitsFunction logits,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logits);
        var schedule = DecodeSchedule.Prepare(rows, options);
        var active = schedule.Active.Select(s => new RowState(s.Row, schedule.Results[s.Index], s.InitialUnknown)).ToList();
        if (active.Count == 0)
        {
            return schedule.Results;
        }

        // The two big buffers live for the whole decode; each step rewrites them in place.
        int n = active.Count;
        var ids = new long[n * MageTokens.SequenceLength];
        var logitBuffer = new float[n * LogitsPerRow];
        for (int i = 0; i < n; i++)
        {
            SequenceRow.Write(active[i].Result, SequenceRow.Of(ids, i));
        }

        for (int step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await logits(ids, n, logitBuffer, cancellationToken).ConfigureAwait(false);

            int t = step;
            if (n == 1)
            {
                StepRow(schedule, active[0], ids, logitBuffer, 0, t);
            }
            else
            {
                // Rows are independent, so splitting them over threads cannot change any result.
                try
                {
                    Parallel.For(
                        0,
                        n,
                        new ParallelOptions { CancellationToken = cancellationToken },
                        i => StepRow(schedule, active[i], ids, logitBuffer, i, t));
                }
                catch (AggregateException error) when (error.InnerExceptions.Count > 0)
                {
                    // Callers see the same exception type as for a single row.
                    ExceptionDispatchInfo.Throw(error.InnerExceptions[0]);
                }
            }

            progress?.Report(step + 1);
        }

        return schedule.Results;
    }

    /// <summary>The confidence of a chosen id: log of its float32 probability, computed in double and rounded to float32.</summary>
    internal static float LogProbability(float probability) => (float)Math.Log(probability);

    /// <summary>
    /// One step of one row: reads its current ids and logits, writes the chosen ids into the row's
    /// result and the ids of the next step back into <paramref name="ids"/>.
    /// </summary>
    private static void StepRow(DecodeSchedule schedule, RowState row, long[] ids, float[] logits, int index, int step)
    {
        var options = schedule.Options;
        Span<long> current = SequenceRow.Tokens(ids, index);
        ReadOnlySpan<float> rowLogits = logits.AsSpan(index * LogitsPerRow, LogitsPerRow);
        long[] sampled = row.Result;
        float[] confidence = row.Confidence;
        double[] weights = row.Weights;

        double ratio = schedule.Ratio(step);
        int unknownNow = 0;
        for (int p = 0; p < MageTokens.Count; p++)
        {
            if (current[p] != MageTokens.MaskId)
            {
                sampled[p] = current[p];
                confidence[p] = float.PositiveInfinity;
                continue;
            }

            var (id, probability) = Choose(
                rowLogits.Slice(p * MageTokens.CodebookSize, MageTokens.CodebookSize),
                weights,
                options.Deterministic,
                options.Deterministic ? 0 : DecodeSchedule.Uniform(row.Row, step, p),
                index,
                p);
            sampled[p] = id;
            float c = LogProbability(probability);
            if (!options.Deterministic)
            {
                // Like the official code: the noise is drawn in double and added in float32.
                c += schedule.Noise(row.Row, ratio, step, p);
            }

            confidence[p] = c;
            row.Unknown[unknownNow++] = c;
        }

        if (schedule.IsLastStep(step))
        {
            return;
        }

        int maskLength = DecodeSchedule.MaskLength(row.InitialUnknown, unknownNow, ratio);

        // Known positions have +infinity, so the mask_len-th smallest confidence overall is the
        // mask_len-th smallest among the unknown ones (mask_len <= unknown_now always holds).
        Span<float> unknownConfidence = row.Unknown.AsSpan(0, unknownNow);
        unknownConfidence.Sort();
        float cutOff = unknownConfidence[maskLength - 1];
        for (int p = 0; p < MageTokens.Count; p++)
        {
            current[p] = confidence[p] <= cutOff ? MageTokens.MaskId : sampled[p];
        }
    }

    /// <summary>
    /// Picks an id from one position's logits and returns it with its softmax probability as
    /// float32. The weights exp(l - max) are summed in double in index order; a sample is the
    /// smallest id whose running weight exceeds u * total (inverse CDF without dividing each
    /// weight).
    /// </summary>
    private static (int Id, float Probability) Choose(
        ReadOnlySpan<float> logits, double[] weights, bool deterministic, double u, int row, int position)
    {
        float max = float.NegativeInfinity;
        int argmax = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            // Strictly greater keeps the lowest index on ties.
            if (logits[i] > max)
            {
                max = logits[i];
                argmax = i;
            }
        }

        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double w = Math.Exp((double)logits[i] - max);
            weights[i] = w;
            total += w;
        }

        // NaN or infinite logits make the total NaN (an all -infinity row included).
        if (!double.IsFinite(total))
        {
            throw new InvalidOperationException(
                $"The logits function returned a non-finite logit for row {row}, position {position}.");
        }

        int chosen = argmax;
        if (!deterministic)
        {
            double target = u * total;
            double running = 0;
            chosen = -1;
            for (int i = 0; i < weights.Length; i++)
            {
                running += weights[i];
                if (running > target)
                {
                    chosen = i;
                    break;
                }
            }

            if (chosen < 0)
            {
                // Rounding left the running sum at or below the target: take the last id with weight.
                chosen = weights.Length - 1;
                while (weights[chosen] == 0)
                {
                    chosen--;
                }
            }
        }

        return (chosen, (float)(weights[chosen] / total));
    }

    private sealed class RowState(DecodeRow row, long[] result, int initialUnknown)
    {
        /// <summary>The row: the keys of its random numbers.</summary>
        public DecodeRow Row { get; } = row;

        /// <summary>The output array: a copy of the initial tokens, then the ids chosen at the latest step.</summary>
        public long[] Result { get; } = result;

        public int InitialUnknown { get; } = initialUnknown;

        public float[] Confidence { get; } = new float[MageTokens.Count];

        public float[] Unknown { get; } = new float[MageTokens.Count];

        public double[] Weights { get; } = new double[MageTokens.CodebookSize];
    }
}
