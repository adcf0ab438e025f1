namespace Mage.Inference.Editing;

/// <summary>
/// Operations on the planar [3, H, W] float canvases (values in [0, 1]) that outpainting and
/// uncropping assemble from 256x256 windows: a blank canvas, pasting an image, cropping a window
/// and writing a generated window back.
/// </summary>
/// <remarks>Stateless and thread-safe; callers own the arrays and keep them within bounds.</remarks>
internal static class Canvas
{
    /// <summary>A canvas nothing has been written to yet: every value mid-grey (0.5).</summary>
    public static float[] Blank(int width, int height)
    {
        var canvas = new float[3 * width * height];
        Array.Fill(canvas, 0.5f);
        return canvas;
    }

    /// <summary>Copies a [3, sourceHeight, sourceWidth] image onto the canvas with its top-left corner at (left, top).</summary>
    public static void Paste(float[] source, int sourceWidth, int sourceHeight, float[] canvas, int width, int height, int left, int top)
    {
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < sourceHeight; y++)
            {
                source.AsSpan((c * sourceWidth * sourceHeight) + (y * sourceWidth), sourceWidth)
                    .CopyTo(canvas.AsSpan((c * width * height) + ((top + y) * width) + left));
            }
        }
    }

    /// <summary>Marks the pixels of <paramref name="box"/> as known on a row-major width-wide mask.</summary>
    public static void MarkKnown(bool[] known, int width, PixelBox box)
    {
        for (var y = 0; y < box.Height; y++)
        {
            Array.Fill(known, true, ((box.Y + y) * width) + box.X, box.Width);
        }
    }

    /// <summary>Copies the 256x256 window whose top-left corner is (left, top) into <paramref name="window"/>.</summary>
    public static void Crop(float[] canvas, int width, int height, int left, int top, float[] window)
    {
        const int size = MageTokens.ImageSize;
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < size; y++)
            {
                canvas.AsSpan((c * width * height) + ((top + y) * width) + left, size)
                    .CopyTo(window.AsSpan((c * size * size) + (y * size)));
            }
        }
    }

    /// <summary>
    /// Writes a generated 256x256 window back: only pixels not yet known when
    /// <paramref name="onlyNewPixels"/>, else every pixel of the window's generated tokens. Every
    /// pixel of the window is known afterwards.
    /// </summary>
    public static void WriteWindow(float[] generated, OutpaintWindow win, bool onlyNewPixels, float[] canvas, bool[] known, int width, int height)
    {
        const int size = MageTokens.ImageSize;
        for (var y = 0; y < size; y++)
        {
            var cy = win.Y + y;
            for (var x = 0; x < size; x++)
            {
                var cx = win.X + x;
                var at = (cy * width) + cx;
                var write = onlyNewPixels ? !known[at] : win.Unknown[y / MageTokens.PatchSize, x / MageTokens.PatchSize];
                if (write)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        canvas[(c * width * height) + at] = generated[(c * size * size) + (y * size) + x];
                    }
                }

                known[at] = true;
            }
        }
    }
}
