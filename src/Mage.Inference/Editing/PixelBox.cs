namespace Mage.Inference.Editing;

/// <summary>
/// An axis-aligned rectangle in pixels: columns X .. X+Width-1, rows Y .. Y+Height-1, origin at
/// the top-left of the canvas. An immutable value; where it is accepted, the method documents
/// how it is validated and clipped.
/// </summary>
public readonly record struct PixelBox(int X, int Y, int Width, int Height)
{
    /// <summary>One past the last column (as a long: X + Width can exceed int).</summary>
    public long Right => (long)X + Width;

    /// <summary>One past the last row.</summary>
    public long Bottom => (long)Y + Height;
}
