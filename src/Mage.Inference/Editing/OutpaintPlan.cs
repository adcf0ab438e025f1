
namespace Mage.Inference.Editing;

/// <summary>
/// Plans outpainting: the canvas grown by the requested margins is filled window by window, each
/// 256x256 window overlapping pixels already known, working outward from the original.
/// Immutable and thread safe.
/// </summary>
/// <remarks>
/// Window offsets on each axis lie on a lattice of stride half a window anchored at the
/// original's top-left edge minus half a window, clamped to the canvas and de-duplicated. So
/// the first ring of windows holds half a window of original pixels where the original is at
/// least that big, each further ring half a window of pixels filled by the ring before, and
/// offsets stay on the original's 16-pixel token grid except where a window is pushed back
/// inside the canvas. Windows that contain no new pixel are dropped; the rest are processed by
/// how far they reach beyond the original (Chebyshev), then by how far their centre is from the
/// original's centre (so corners come last in a ring), then top to bottom and left to right.
/// </remarks>
public sealed class OutpaintPlan
{
    /// <summary>Largest accepted original side, in pixels (margins: <see cref="MageDefaults.MaxOutpaintMargin"/>).</summary>
    public const int MaxSide = 4096;

    /// <summary>Largest number of windows one plan may need.</summary>
    public const int MaxWindows = 256;

    private OutpaintPlan(int canvasWidth, int canvasHeight, PixelBox original, int window, IReadOnlyList<OutpaintWindow> windows)
    {
        CanvasWidth = canvasWidth;
        CanvasHeight = canvasHeight;
        Original = original;
        WindowSize = window;
        Windows = windows;
    }

    /// <summary>Canvas width in pixels: width + left + right.</summary>
    public int CanvasWidth { get; }

    /// <summary>Canvas height in pixels: height + top + bottom.</summary>
    public int CanvasHeight { get; }

    /// <summary>Where the original image sits on the canvas.</summary>
    public PixelBox Original { get; }

    /// <summary>Side of every window in pixels.</summary>
    public int WindowSize { get; }

    /// <summary>The windows in processing order.</summary>
    public IReadOnlyList<OutpaintWindow> Windows { get; }

    /// <summary>
    /// Plans extending a <paramref name="width"/> x <paramref name="height"/> image by the given
    /// margins in pixels.
    /// </summary>
    /// <param name="width">Original width in pixels, 1 .. <see cref="MaxSide"/>.</param>
    /// <param name="height">Original height in pixels, 1 .. <see cref="MaxSide"/>.</param>
    /// <param name="left">New columns on the left, 0 .. <see cref="MageDefaults.MaxOutpaintMargin"/>.</param>
    /// <param name="right">New columns on the right, 0 .. <see cref="MageDefaults.MaxOutpaintMargin"/>.</param>
    /// <param name="top">New rows on top, 0 .. <see cref="MageDefaults.MaxOutpaintMargin"/>.</param>
    /// <param name="bottom">New rows at the bottom, 0 .. <see cref="MageDefaults.MaxOutpaintMargin"/>.</param>
    /// <param name="window">
    /// The model's input side in pixels. The current models read 256x256 images, and token masks
    /// are 16x16, so 256 is the only accepted value.
    /// </param>
    /// <exception cref="InvalidRequestException">A value is out of range, or the plan would be too large.</exception>
    public static OutpaintPlan Create(int width, int height, int left, int right, int top, int bottom, int window = MageTokens.ImageSize)
    {
        if (window != MageTokens.ImageSize)
        {
            throw new InvalidRequestException(
                $"The window is {window} pixels; the model reads {MageTokens.ImageSize}x{MageTokens.ImageSize} images, so it must be {MageTokens.ImageSize}.");
        }

        CheckRange(nameof(width), width, 1, MaxSide);
        CheckRange(nameof(height), height, 1, MaxSide);
        CheckRange(nameof(left), left, 0, MageDefaults.MaxOutpaintMargin);
        CheckRange(nameof(right), right, 0, MageDefaults.MaxOutpaintMargin);
        CheckRange(nameof(top), top, 0, MageDefaults.MaxOutpaintMargin);
        CheckRange(nameof(bottom), bottom, 0, MageDefaults.MaxOutpaintMargin);
        if (left == 0 && right == 0 && top == 0 && bottom == 0)
        {
            throw new InvalidRequestException(
                "All outpainting margins are 0; at least one of left, right, top and bottom must be 1 or more.");
        }

        int canvasWidth = width + left + right;
        int canvasHeight = height + top + bottom;
        if (canvasWidth < window || canvasHeight < window)
        {
            throw new InvalidRequestException(
                $"The outpainted canvas would be {canvasWidth}x{canvasHeight} pixels; both sides must be at least {window} (the model's window). Upscale or otherwise preprocess the input, or extend it further, so that width + left + right and height + top + bottom reach {window}.");
        }

        var original = new PixelBox(left, top, width, height);
        List<int> xs = AxisOffsets(left, canvasWidth, window);
        List<int> ys = AxisOffsets(top, canvasHeight, window);
        var candidates = new List<(int X, int Y, long Reach, double Distance)>();
        foreach (int y in ys)
        {
            foreach (int x in xs)
            {
                bool insideOriginal = x >= original.X && x + window <= original.Right && y >= original.Y && y + window <= original.Bottom;
                if (!insideOriginal)
                {
                    candidates.Add((x, y, Reach(original, x, y, window), CentreDistance(original, x, y, window)));
                }
            }
        }

        if (candidates.Count > MaxWindows)
        {
            throw new InvalidRequestException(
                $"Outpainting {width}x{height} by left {left}, right {right}, top {top}, bottom {bottom} needs {candidates.Count} windows; at most {MaxWindows} are allowed. Use smaller margins or a smaller input.");
        }

        candidates.Sort((a, b) =>
        {
            int order = a.Reach.CompareTo(b.Reach);
            if (order == 0)
            {
                order = a.Distance.CompareTo(b.Distance);
            }

            if (order == 0)
            {
                order = a.Y.CompareTo(b.Y);
            }

            return order != 0 ? order : a.X.CompareTo(b.X);
        });

        var known = new bool[canvasWidth * canvasHeight];
        for (int y = original.Y; y < original.Bottom; y++)
        {
            known.AsSpan((y * canvasWidth) + original.X, width).Fill(true);
        }

        var windows = new List<OutpaintWindow>(candidates.Count);
        foreach (var (x, y, _, _) in candidates)
        {
            windows.Add(Apply(known, canvasWidth, x, y, window));
        }

        return new OutpaintPlan(canvasWidth, canvasHeight, original, window, windows);
    }

    private static void CheckRange(string name, int value, int minimum, int maximum)
    {
        if (value < minimum || value > maximum)
        {
            throw new InvalidRequestException($"{name} is {value}; it must be between {minimum} and {maximum} pixels.");
        }
    }

    /// <summary>Offsets on one axis: a half-window lattice anchored at start - half, clamped and de-duplicated.</summary>
    private static List<int> AxisOffsets(int start, int length, int window)
    {
        int stride = window / 2;
        int offset = start - stride;
        while (offset - stride > -window)
        {
            offset -= stride;
        }

        var offsets = new List<int>();
        for (; offset < length; offset += stride)
        {
            int clamped = Math.Clamp(offset, 0, length - window);
            if (offsets.Count == 0 || offsets[^1] != clamped)
            {
                offsets.Add(clamped);
            }
        }

        return offsets;
    }

    /// <summary>How far the window reaches beyond the original on its farthest side.</summary>
    private static long Reach(PixelBox original, int x, int y, int window) =>
        Math.Max(
            Math.Max(original.X - (long)x, x + (long)window - original.Right),
            Math.Max(original.Y - (long)y, y + (long)window - original.Bottom));

    /// <summary>
    /// Distance from the window's centre to the original's centre: within a ring, windows beside
    /// the original go before the corner windows, which then see the context those filled.
    /// </summary>
    private static double CentreDistance(PixelBox original, int x, int y, int window)
    {
        double dx = x + (window / 2.0) - (original.X + (original.Width / 2.0));
        double dy = y + (window / 2.0) - (original.Y + (original.Height / 2.0));
        return Math.Sqrt((dx * dx) + (dy * dy));
    }

    /// <summary>Reads the window's unknown tokens and context from the known bitmap, then marks it known.</summary>
    private static OutpaintWindow Apply(bool[] known, int canvasWidth, int x, int y, int window)
    {
        const int Patch = MageTokens.PatchSize;
        var unknown = new bool[MageTokens.Count];
        int knownPixels = 0;
        for (int row = 0; row < window; row++)
        {
            Span<bool> line = known.AsSpan(((y + row) * canvasWidth) + x, window);
            int knownInLine = line.Count(true);
            knownPixels += knownInLine;
            if (knownInLine == window)
            {
                continue;
            }

            for (int column = 0; column < MageTokens.GridSize; column++)
            {
                if (line.Slice(column * Patch, Patch).Contains(false))
                {
                    unknown[((row / Patch) * MageTokens.GridSize) + column] = true;
                }
            }
        }

        if (knownPixels == 0)
        {
            // The lattice and the ordering make this impossible; fail loudly rather than
            // generate a window with no context.
            throw new InvalidOperationException($"Outpainting window at ({x}, {y}) has no known pixels.");
        }

        for (int row = 0; row < window; row++)
        {
            known.AsSpan(((y + row) * canvasWidth) + x, window).Fill(true);
        }

        return new OutpaintWindow(x, y, new TokenMask(unknown), knownPixels);
    }
}
