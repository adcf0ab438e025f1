using Mage.Inference.Decoding;

namespace Mage.Inference.Tests.Decoding;

/// <summary>
/// A stand-in for the transformer whose logits for a row depend only on that row's 257 ids:
/// each position's state is a fixed pseudo-random linear map of the ids, hashed into an offset
/// of a table of random logits. Coarse tables hold few distinct values, so argmax ties and
/// confidence ties happen often; fine tables make ties practically impossible.
/// Records the number of unknown positions of every row it sees. Not thread safe.
/// </summary>
internal sealed class FakeLogitsModel
{
    private const int TableSize = 1 << 20;
    private readonly float[] table = new float[TableSize];
    private readonly int[] weights = new int[MageTokens.Count * MageTokens.SequenceLength];

    public FakeLogitsModel(int seed, bool coarse)
    {
        var random = new Random(seed);
        for (int i = 0; i < table.Length; i++)
        {
            table[i] = coarse ? random.Next(-6, 7) * 0.5f : (float)((random.NextDouble() * 8) - 4);
        }

        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = random.Next(1, 1000);
        }
    }

    /// <summary>Unknown positions per row, one list per call.</summary>
    public List<int[]> UnknownCounts { get; } = [];

    public int Calls => UnknownCounts.Count;

    public LogitsFunction Function => (ids, rows, logits, cancellationToken) =>
    {
        var counts = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var rowIds = ids.Span.Slice(r * MageTokens.SequenceLength, MageTokens.SequenceLength);
            counts[r] = rowIds[1..].Count(MageTokens.MaskId);
            FillRow(rowIds, logits.Span.Slice(r * MageTokens.Count * MageTokens.CodebookSize, MageTokens.Count * MageTokens.CodebookSize));
        }

        UnknownCounts.Add(counts);
        return ValueTask.CompletedTask;
    };

    /// <summary>Logits of one row; the reference decoder calls it directly.</summary>
    public void FillRow(ReadOnlySpan<long> ids, Span<float> logits)
    {
        Assert.Equal(MageTokens.SequenceLength, ids.Length);
        Assert.Equal(MageTokens.FakeClassId, ids[0]);
        for (int p = 0; p < MageTokens.Count; p++)
        {
            long state = 0;
            for (int j = 0; j < ids.Length; j++)
            {
                state += weights[(p * MageTokens.SequenceLength) + j] * ids[j];
            }

            ulong h = (ulong)state * 0x9E3779B97F4A7C15UL;
            h ^= h >> 29;
            int offset = (int)(h % TableSize);
            var destination = logits.Slice(p * MageTokens.CodebookSize, MageTokens.CodebookSize);
            for (int v = 0; v < MageTokens.CodebookSize; v++)
            {
                destination[v] = table[(offset + (v * 7919)) % TableSize];
            }
        }
    }
}
