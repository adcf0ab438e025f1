using System.Globalization;

namespace Mage.Inference.Editing;

/// <summary>
/// Plans uncropping: the 256x256 input is shrunk, placed on a 256x256 canvas, and everything
/// around it is generated. Immutable and thread safe.
/// </summary>
/// <param name="Size">Side of the shrunk input in pixels.</param>
/// <param name="Placed">Where the shrunk input sits on the canvas, in pixels.</param>
/// <param name="Unknown">Tokens with any pixel outside <paramref name="Placed"/>.</param>
public sealed record UncropPlan(int Size, PixelBox Placed, TokenMask Unknown)
{
    /// <summary>
    /// Plans shrinking the input by <paramref name="scale"/> (side round(256 * scale), halves
    /// rounded away from zero) and placing it at <paramref name="position"/>.
    /// </summary>
    /// <param name="scale">Side of the shrunk input relative to the canvas, in [<see cref="MageDefaults.MinUncropScale"/>, 1).</param>
    /// <param name="position">Top-left corner of the shrunk input in pixels; centred (rounded down) when null.</param>
    /// <param name="canvas">The model's input side in pixels; the current models accept only 256.</param>
    /// <exception cref="InvalidRequestException">A value is out of range.</exception>
    public static UncropPlan Create(double scale, (int X, int Y)? position = null, int canvas = MageTokens.ImageSize)
    {
        if (canvas != MageTokens.ImageSize)
        {
            throw new InvalidRequestException(
                $"The canvas is {canvas} pixels; the model reads {MageTokens.ImageSize}x{MageTokens.ImageSize} images, so it must be {MageTokens.ImageSize}.");
        }

        if (!double.IsFinite(scale) || scale < MageDefaults.MinUncropScale || scale >= 1)
        {
            throw new InvalidRequestException(
                string.Create(CultureInfo.InvariantCulture, $"The uncrop scale is {scale}; it must be at least {MageDefaults.MinUncropScale} and below 1."));
        }

        int size = (int)Math.Round(canvas * scale, MidpointRounding.AwayFromZero);
        if (size >= canvas)
        {
            throw new InvalidRequestException(
                $"The uncrop scale {scale} rounds to the full {canvas}-pixel canvas, leaving nothing to generate; it must be below {(canvas - 0.5) / canvas}.");
        }

        var (x, y) = position ?? ((canvas - size) / 2, (canvas - size) / 2);
        if (x < 0 || y < 0 || x > canvas - size || y > canvas - size)
        {
            throw new InvalidRequestException(
                $"The uncrop position ({x}, {y}) does not fit a {size}x{size} image on the {canvas}x{canvas} canvas; X and Y must be between 0 and {canvas - size}.");
        }

        var outside = new bool[canvas * canvas];
        for (int row = 0; row < canvas; row++)
        {
            Span<bool> line = outside.AsSpan(row * canvas, canvas);
            if (row < y || row >= y + size)
            {
                line.Fill(true);
            }
            else
            {
                line[..x].Fill(true);
                line[(x + size)..].Fill(true);
            }
        }

        return new UncropPlan(size, new PixelBox(x, y, size, size), TokenMask.FromPixelMask(outside));
    }
}
