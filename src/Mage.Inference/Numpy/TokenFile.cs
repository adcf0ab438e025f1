namespace Mage.Inference.Numpy;

/// <summary>
/// The one format of the token files Mage writes (<c>tokens.npy</c> from the service,
/// <c>--tokens-out</c> from the CLI): int64, the dtype of the ids the graphs take and return and
/// of PyTorch's token tensors, so a file loads into either without a cast. Shape [N, 256] for
/// several grids, [256] for one. Readers also accept int32.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class TokenFile
{
    /// <summary>The dtype of written token files.</summary>
    public const NpyDType DType = NpyDType.Int64;

    /// <summary>Writes grids of 256 ids as int64 [N, 256].</summary>
    public static void Write(Stream stream, IReadOnlyList<long[]> grids)
    {
        ArgumentNullException.ThrowIfNull(grids);
        var flat = new long[grids.Count * MageTokens.Count];
        for (var r = 0; r < grids.Count; r++)
        {
            CheckGrid(grids[r], r);
            grids[r].CopyTo(flat, r * MageTokens.Count);
        }

        NpyFile.Write<long>(stream, flat, [grids.Count, MageTokens.Count]);
    }

    /// <summary>Writes one grid of 256 ids as int64 [256].</summary>
    public static void Write(Stream stream, long[] grid)
    {
        CheckGrid(grid, 0);
        NpyFile.Write<long>(stream, grid, [MageTokens.Count]);
    }

    /// <summary>The bytes of <see cref="Write(Stream, IReadOnlyList{long[]})"/>.</summary>
    public static byte[] ToBytes(IReadOnlyList<long[]> grids)
    {
        using var stream = new MemoryStream();
        Write(stream, grids);
        return stream.ToArray();
    }

    /// <summary>The bytes of <see cref="Write(Stream, long[])"/>.</summary>
    public static byte[] ToBytes(long[] grid)
    {
        using var stream = new MemoryStream();
        Write(stream, grid);
        return stream.ToArray();
    }

    private static void CheckGrid(long[]? grid, int index)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.Length != MageTokens.Count)
        {
            throw new ArgumentException($"Token grid {index} has {grid.Length} ids; a grid has {MageTokens.Count}.", nameof(grid));
        }
    }
}
