namespace Mage.Inference;

/// <summary>
/// The one check that token ids are codebook ids (0 .. <see cref="MageTokens.CodebookSize"/> - 1),
/// and its messages: the engine, the model and the decoder all validate through it, so an
/// offending id is reported the same way whichever entry point it reached first (the CLI's
/// <c>mage decode</c> reports bad rows with <see cref="Problem"/>).
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class CodebookIds
{
    /// <summary>
    /// Throws unless every id is a codebook id. <paramref name="ids"/> may hold several grids back
    /// to back; the message names the grid (row) and the position within it.
    /// </summary>
    /// <exception cref="InvalidRequestException">An id is outside the codebook.</exception>
    internal static void Check(ReadOnlySpan<long> ids) => Scan(ids, firstRow: 0, maskAllowed: false);

    /// <summary>
    /// Checks one grid of <see cref="MageTokens.Count"/> ids: present, of the right length, and
    /// made of codebook ids, or also <see cref="MageTokens.MaskId"/> when
    /// <paramref name="maskAllowed"/>. Returns the number of mask ids.
    /// </summary>
    /// <param name="grid">The ids.</param>
    /// <param name="row">Which grid of the request it is, for the message.</param>
    /// <param name="maskAllowed">Whether unknown positions are allowed (the decoder's input).</param>
    /// <exception cref="InvalidRequestException">The grid is missing, has the wrong length or holds an id that is not allowed.</exception>
    internal static int CheckGrid(long[]? grid, int row, bool maskAllowed)
    {
        if (grid is null)
        {
            throw new InvalidRequestException($"Row {row} has no token grid.");
        }

        if (grid.Length != MageTokens.Count)
        {
            throw new InvalidRequestException($"Row {row} has {grid.Length} ids; a token grid has exactly {MageTokens.Count}.");
        }

        return Scan(grid, row, maskAllowed);
    }

    /// <summary>Why a grid is not a grid of codebook ids (<see cref="CheckGrid"/>'s message), or null when it is.</summary>
    public static string? Problem(long[]? grid, int row, bool maskAllowed)
    {
        try
        {
            CheckGrid(grid, row, maskAllowed);
            return null;
        }
        catch (InvalidRequestException e)
        {
            return e.Message;
        }
    }

    private static int Scan(ReadOnlySpan<long> ids, int firstRow, bool maskAllowed)
    {
        var masked = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            if ((ulong)id < MageTokens.CodebookSize)
            {
                continue;
            }

            if (maskAllowed && id == MageTokens.MaskId)
            {
                masked++;
                continue;
            }

            // Out-of-range ids would make the Gather inside a graph fail with an opaque error.
            var also = maskAllowed ? $" or the mask id {MageTokens.MaskId}" : string.Empty;
            throw new InvalidRequestException(
                $"Row {firstRow + (i / MageTokens.Count)} position {i % MageTokens.Count} holds id {id}; it must be a codebook id 0..{MageTokens.CodebookSize - 1}{also}.");
        }

        return masked;
    }
}
