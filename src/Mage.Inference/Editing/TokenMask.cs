
namespace Mage.Inference.Editing;

/// <summary>
/// Which of the 256 token positions of a 256x256 image (16x16 grid, row-major) are unknown and
/// will be generated. Immutable and thread safe; operations return new masks.
/// </summary>
public sealed class TokenMask : IEquatable<TokenMask>
{
    /// <summary>Largest accepted <see cref="Dilate"/> radius: the whole grid.</summary>
    public const int MaxDilation = MageTokens.GridSize;

    private const int Grid = MageTokens.GridSize;
    private const int Patch = MageTokens.PatchSize;
    private const int Image = MageTokens.ImageSize;

    private readonly bool[] unknown;

    /// <summary>Creates a mask from 256 flags (true = unknown), row-major.</summary>
    public TokenMask(ReadOnlySpan<bool> unknown)
    {
        if (unknown.Length != MageTokens.Count)
        {
            throw new InvalidRequestException(
                $"A token mask has {MageTokens.Count} entries; {unknown.Length} were given.");
        }

        this.unknown = unknown.ToArray();
        Count = unknown.Count(true);
    }

    private TokenMask(bool[] unknown)
    {
        this.unknown = unknown;
        Count = unknown.AsSpan().Count(true);
    }

    /// <summary>Number of unknown positions (the decoder's U0 for this mask).</summary>
    public int Count { get; }

    /// <summary>Whether position <paramref name="position"/> (row * 16 + column) is unknown.</summary>
    public bool this[int position] => unknown[position];

    /// <summary>Whether the token at <paramref name="row"/>, <paramref name="column"/> is unknown.</summary>
    public bool this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(row);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Grid);
            ArgumentOutOfRangeException.ThrowIfNegative(column);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Grid);
            return unknown[(row * Grid) + column];
        }
    }

    /// <summary>
    /// A token is unknown when its 16x16 patch contains at least one masked pixel.
    /// </summary>
    /// <param name="pixelMask">256x256 flags, row-major, true = masked (to be regenerated).</param>
    public static TokenMask FromPixelMask(ReadOnlySpan<bool> pixelMask)
    {
        if (pixelMask.Length != Image * Image)
        {
            throw new InvalidRequestException(
                $"A pixel mask has {Image}x{Image} = {Image * Image} entries; {pixelMask.Length} were given.");
        }

        var result = new bool[MageTokens.Count];
        for (int y = 0; y < Image; y++)
        {
            ReadOnlySpan<bool> line = pixelMask.Slice(y * Image, Image);
            for (int column = 0; column < Grid; column++)
            {
                if (line.Slice(column * Patch, Patch).Contains(true))
                {
                    result[((y / Patch) * Grid) + column] = true;
                }
            }
        }

        return new TokenMask(result);
    }

    /// <summary>
    /// A token is unknown when its patch intersects any of the boxes (pixels on the 256x256
    /// canvas). Each box must have a positive size and intersect the canvas; it is clipped to it.
    /// No boxes give a mask with nothing unknown.
    /// </summary>
    public static TokenMask FromBoxes(IEnumerable<PixelBox> boxes)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        var result = new bool[MageTokens.Count];
        foreach (var box in boxes)
        {
            if (box.Width <= 0 || box.Height <= 0)
            {
                throw new InvalidRequestException(
                    $"Box {box} has a size of {box.Width}x{box.Height}; width and height must be at least 1.");
            }

            if (box.X >= Image || box.Y >= Image || box.Right <= 0 || box.Bottom <= 0)
            {
                throw new InvalidRequestException(
                    $"Box {box} lies outside the {Image}x{Image} canvas; it must cover at least one pixel of 0..{Image - 1} in both directions.");
            }

            int firstColumn = Math.Max(0, box.X) / Patch;
            int lastColumn = (int)(Math.Min(Image, box.Right) - 1) / Patch;
            int firstRow = Math.Max(0, box.Y) / Patch;
            int lastRow = (int)(Math.Min(Image, box.Bottom) - 1) / Patch;
            for (int row = firstRow; row <= lastRow; row++)
            {
                result.AsSpan((row * Grid) + firstColumn, lastColumn - firstColumn + 1).Fill(true);
            }
        }

        return new TokenMask(result);
    }

    /// <summary>
    /// Grows the unknown region by <paramref name="tokens"/> tokens in every direction, diagonals
    /// included (Chebyshev distance), clipped to the grid. MaskGIT's editing default is 1.
    /// </summary>
    /// <param name="tokens">Radius in tokens, 0 .. <see cref="MaxDilation"/>.</param>
    public TokenMask Dilate(int tokens)
    {
        if (tokens is < 0 or > MaxDilation)
        {
            throw new InvalidRequestException(
                $"Dilation is {tokens} tokens; it must be between 0 and {MaxDilation}.");
        }

        if (tokens == 0)
        {
            return this;
        }

        // A Chebyshev ball is a square, so the dilation separates into a row pass and a column pass.
        var horizontal = new bool[MageTokens.Count];
        for (int row = 0; row < Grid; row++)
        {
            for (int column = 0; column < Grid; column++)
            {
                if (unknown[(row * Grid) + column])
                {
                    int from = Math.Max(0, column - tokens);
                    int to = Math.Min(Grid - 1, column + tokens);
                    horizontal.AsSpan((row * Grid) + from, to - from + 1).Fill(true);
                }
            }
        }

        var result = new bool[MageTokens.Count];
        for (int row = 0; row < Grid; row++)
        {
            for (int column = 0; column < Grid; column++)
            {
                if (horizontal[(row * Grid) + column])
                {
                    int from = Math.Max(0, row - tokens);
                    int to = Math.Min(Grid - 1, row + tokens);
                    for (int r = from; r <= to; r++)
                    {
                        result[(r * Grid) + column] = true;
                    }
                }
            }
        }

        return new TokenMask(result);
    }

    /// <summary>
    /// Returns a copy of <paramref name="tokens"/> (256 ids) with every unknown position set to
    /// <see cref="MageTokens.MaskId"/>: the initial tokens of a decode.
    /// </summary>
    public long[] Apply(long[] tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Length != MageTokens.Count)
        {
            throw new InvalidRequestException(
                $"A token grid has {MageTokens.Count} ids; {tokens.Length} were given.");
        }

        long[] result = (long[])tokens.Clone();
        for (int p = 0; p < result.Length; p++)
        {
            if (unknown[p])
            {
                result[p] = MageTokens.MaskId;
            }
        }

        return result;
    }

    /// <summary>
    /// Writes the 256x256 pixel mask (row-major, true = inside an unknown token's patch): the
    /// edit region to blend with <see cref="PixelBlend"/>.
    /// </summary>
    public void ToPixelMask(Span<bool> destination)
    {
        if (destination.Length != Image * Image)
        {
            throw new InvalidRequestException(
                $"A pixel mask has {Image * Image} entries; the destination has {destination.Length}.");
        }

        for (int y = 0; y < Image; y++)
        {
            for (int column = 0; column < Grid; column++)
            {
                destination.Slice((y * Image) + (column * Patch), Patch).Fill(unknown[((y / Patch) * Grid) + column]);
            }
        }
    }

    /// <summary>A copy of the 256 flags, row-major.</summary>
    public bool[] ToArray() => (bool[])unknown.Clone();

    public bool Equals(TokenMask? other) => other is not null && unknown.AsSpan().SequenceEqual(other.unknown);

    public override bool Equals(object? obj) => Equals(obj as TokenMask);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (bool flag in unknown)
        {
            hash.Add(flag);
        }

        return hash.ToHashCode();
    }

    /// <summary>The grid as 16 lines of '#' (unknown) and '.' (known), for test failures and logs.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder((Grid + 1) * Grid);
        for (int row = 0; row < Grid; row++)
        {
            for (int column = 0; column < Grid; column++)
            {
                text.Append(unknown[(row * Grid) + column] ? '#' : '.');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
