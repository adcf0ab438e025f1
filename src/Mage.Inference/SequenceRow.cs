namespace Mage.Inference;

/// <summary>
/// The layout of one transformer row, the only place it is written: position 0 holds
/// <see cref="MageTokens.FakeClassId"/>, positions 1 .. 256 the token grid row-major (codebook
/// ids, or <see cref="MageTokens.MaskId"/> where unknown), <see cref="MageTokens.SequenceLength"/>
/// ids in all. Rows of a batch follow each other.
/// </summary>
/// <remarks>Stateless and thread-safe; writes only into the caller's spans.</remarks>
internal static class SequenceRow
{
    /// <summary>Writes the row of a 256-id token grid.</summary>
    public static void Write(ReadOnlySpan<long> tokens, Span<long> row)
    {
        row[0] = MageTokens.FakeClassId;
        tokens[..MageTokens.Count].CopyTo(row[1..MageTokens.SequenceLength]);
    }

    /// <summary>Writes the rows of <paramref name="rows"/> token grids that follow each other in <paramref name="tokens"/>.</summary>
    public static void WriteMany(ReadOnlySpan<long> tokens, int rows, Span<long> ids)
    {
        for (var r = 0; r < rows; r++)
        {
            Write(tokens.Slice(r * MageTokens.Count, MageTokens.Count), Of(ids, r));
        }
    }

    /// <summary>Writes a row with every position unknown (the row that pads a fixed-size call).</summary>
    public static void WriteAllMasked(Span<long> row)
    {
        row[0] = MageTokens.FakeClassId;
        row[1..MageTokens.SequenceLength].Fill(MageTokens.MaskId);
    }

    /// <summary>Row <paramref name="index"/> of a batch of rows.</summary>
    public static Span<long> Of(Span<long> ids, int index) =>
        ids.Slice(index * MageTokens.SequenceLength, MageTokens.SequenceLength);

    /// <summary>The 256 token positions of row <paramref name="index"/> of a batch of rows.</summary>
    public static Span<long> Tokens(Span<long> ids, int index) =>
        ids.Slice((index * MageTokens.SequenceLength) + 1, MageTokens.Count);
}
