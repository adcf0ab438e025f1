using Mage.Inference.Decoding;

namespace Mage.Inference.Tests.Decoding;

/// <summary>
/// A deliberately plain transcription of the schedule (docs/model.md#decode-schedule, tools/export/README.md):
/// one row, fresh arrays every step, the confidences of all 256 positions sorted with Array.Sort.
/// The optimised decoder must agree with it exactly.
/// </summary>
internal static class ReferenceDecoder
{
    public static long[] Decode(DecodeRow row, DecodeOptions options, FakeLogitsModel model)
    {
        long[] current = (long[])row.InitialTokens.Clone();
        int initialUnknown = current.Count(id => id == MageTokens.MaskId);
        if (initialUnknown == 0)
        {
            return current;
        }

        long[] sampled = new long[256];
        for (int t = 0; t < options.Steps; t++)
        {
            long[] ids = new long[257];
            ids[0] = 1100;
            Array.Copy(current, 0, ids, 1, 256);
            float[] logits = new float[256 * 1024];
            model.FillRow(ids, logits);

            double ratio = (t + 1.0) / options.Steps;
            double maskRatio = Math.Cos(Math.PI / 2 * ratio);
            float[] confidence = new float[256];
            int unknownNow = 0;
            for (int p = 0; p < 256; p++)
            {
                if (current[p] != 2024)
                {
                    sampled[p] = current[p];
                    confidence[p] = float.PositiveInfinity;
                    continue;
                }

                unknownNow++;
                float max = float.NegativeInfinity;
                for (int v = 0; v < 1024; v++)
                {
                    max = Math.Max(max, logits[(p * 1024) + v]);
                }

                double[] e = new double[1024];
                double sum = 0;
                for (int v = 0; v < 1024; v++)
                {
                    e[v] = Math.Exp(logits[(p * 1024) + v] - (double)max);
                    sum += e[v];
                }

                int chosen;
                if (options.Deterministic)
                {
                    chosen = 0;
                    for (int v = 1; v < 1024; v++)
                    {
                        if (logits[(p * 1024) + v] > logits[(p * 1024) + chosen])
                        {
                            chosen = v;
                        }
                    }
                }
                else
                {
                    double u = CounterRandom.Uniform(row.Seed, row.ImageIndex, t, p, 0);
                    double cumulative = 0;
                    chosen = 1023;
                    for (int v = 0; v < 1024; v++)
                    {
                        cumulative += e[v];
                        if (cumulative > u * sum)
                        {
                            chosen = v;
                            break;
                        }
                    }
                }

                sampled[p] = chosen;
                float probability = (float)(e[chosen] / sum);
                confidence[p] = (float)Math.Log(probability);
                if (!options.Deterministic)
                {
                    double g = -Math.Log(-Math.Log(CounterRandom.Uniform(row.Seed, row.ImageIndex, t, p, 1)));
                    confidence[p] += (float)(options.Temperature * (1 - ratio) * g);
                }
            }

            int maskLength = (int)Math.Max(1, Math.Min(unknownNow - 1, Math.Floor(initialUnknown * maskRatio)));
            float[] sorted = (float[])confidence.Clone();
            Array.Sort(sorted);
            float cutOff = sorted[maskLength - 1];
            for (int p = 0; p < 256; p++)
            {
                current[p] = confidence[p] <= cutOff ? 2024 : sampled[p];
            }
        }

        return sampled;
    }
}
