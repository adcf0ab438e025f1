namespace Mage.Inference.Editing;

/// <summary>
/// Pastes generated pixels into an original image inside an edit region only, with a feathered
/// edge, so that every pixel outside the region is bit-for-bit the original.
/// </summary>
/// <remarks>
/// Alpha (the weight of the generated image) is 0 outside the region and
/// min(1, d / featherPixels) inside it, where d is the exact Euclidean distance in pixels to the
/// nearest pixel outside the region (Felzenszwalb and Huttenlocher's separable distance
/// transform, O(width * height)). The canvas border does not count as outside: an edit region
/// reaching the border (outpainting) is not faded there. Thread safety: stateless.
/// </remarks>
internal static class PixelBlend
{
    /// <summary>Largest accepted feather width in pixels.</summary>
    public const int MaxFeatherPixels = 4096;

    // Stands for "no pixel outside the region on this line" in the squared distances.
    private const double Far = 1e20;

    /// <summary>
    /// Writes the blend weights of the generated image, one per pixel, row-major.
    /// </summary>
    /// <param name="editPixels">width * height flags, row-major, true = edited.</param>
    /// <param name="width">Image width in pixels, 1 or more.</param>
    /// <param name="height">Image height in pixels, 1 or more.</param>
    /// <param name="featherPixels">Width of the ramp in pixels, 0 .. 4096; 0 pastes with a hard edge.</param>
    /// <param name="alpha">width * height weights in [0, 1].</param>
    public static void ComputeAlpha(
        ReadOnlySpan<bool> editPixels, int width, int height, int featherPixels, Span<float> alpha)
    {
        int pixels = CheckGeometry(editPixels.Length, width, height, featherPixels);
        if (alpha.Length != pixels)
        {
            throw new InvalidRequestException(
                $"The alpha destination has {alpha.Length} entries; {width}x{height} = {pixels} are needed.");
        }

        if (featherPixels == 0)
        {
            for (int i = 0; i < pixels; i++)
            {
                alpha[i] = editPixels[i] ? 1f : 0f;
            }

            return;
        }

        double[] squared = SquaredDistanceToOutside(editPixels, width, height);
        for (int i = 0; i < pixels; i++)
        {
            alpha[i] = !editPixels[i] ? 0f
                : squared[i] >= Far / 2 ? 1f
                : (float)Math.Min(1.0, Math.Sqrt(squared[i]) / featherPixels);
        }
    }

    /// <summary>
    /// destination = original outside the edit region, generated deep inside it and a blend of
    /// the two on the feathered edge. All images are planar (CHW) float with the same channel
    /// count; <paramref name="destinationChw"/> may be either input.
    /// </summary>
    /// <param name="originalChw">channels * height * width values.</param>
    /// <param name="generatedChw">Same layout and length as the original.</param>
    /// <param name="editPixels">width * height flags, row-major, true = edited.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="featherPixels">Width of the ramp in pixels, 0 .. 4096; 0 pastes with a hard edge.</param>
    /// <param name="destinationChw">Same layout and length as the original.</param>
    public static void BlendOutsideEdit(
        ReadOnlySpan<float> originalChw,
        ReadOnlySpan<float> generatedChw,
        ReadOnlySpan<bool> editPixels,
        int width,
        int height,
        int featherPixels,
        Span<float> destinationChw)
    {
        int pixels = CheckGeometry(editPixels.Length, width, height, featherPixels);
        if (originalChw.Length == 0 || originalChw.Length % pixels != 0)
        {
            throw new InvalidRequestException(
                $"The original image has {originalChw.Length} values; it must be a positive multiple of {width}x{height} = {pixels} (planar channels).");
        }

        if (generatedChw.Length != originalChw.Length || destinationChw.Length != originalChw.Length)
        {
            throw new InvalidRequestException(
                $"The generated image has {generatedChw.Length} values and the destination {destinationChw.Length}; both must match the original's {originalChw.Length}.");
        }

        var alpha = new float[pixels];
        ComputeAlpha(editPixels, width, height, featherPixels, alpha);
        int channels = originalChw.Length / pixels;
        for (int c = 0; c < channels; c++)
        {
            int offset = c * pixels;
            for (int i = 0; i < pixels; i++)
            {
                float a = alpha[i];

                // Copy rather than interpolate at the ends, so outside pixels are exact even when
                // the generated value is not finite.
                destinationChw[offset + i] = a == 0f ? originalChw[offset + i]
                    : a == 1f ? generatedChw[offset + i]
                    : originalChw[offset + i] + (a * (generatedChw[offset + i] - originalChw[offset + i]));
            }
        }
    }

    private static int CheckGeometry(int maskLength, int width, int height, int featherPixels)
    {
        if (width < 1 || height < 1 || (long)width * height > Array.MaxLength)
        {
            throw new InvalidRequestException(
                $"The image is {width}x{height} pixels; both sides must be at least 1 and the area at most {Array.MaxLength}.");
        }

        if (featherPixels is < 0 or > MaxFeatherPixels)
        {
            throw new InvalidRequestException(
                $"The feather is {featherPixels} pixels; it must be between 0 and {MaxFeatherPixels}.");
        }

        int pixels = width * height;
        if (maskLength != pixels)
        {
            throw new InvalidRequestException(
                $"The edit mask has {maskLength} entries; {width}x{height} = {pixels} are needed.");
        }

        return pixels;
    }

    /// <summary>Exact squared Euclidean distance of every pixel to the nearest non-edited pixel.</summary>
    private static double[] SquaredDistanceToOutside(ReadOnlySpan<bool> editPixels, int width, int height)
    {
        int pixels = width * height;
        var squared = new double[pixels];
        int longest = Math.Max(width, height);
        var line = new double[longest];
        var result = new double[longest];
        var parabolas = new int[longest];
        var bounds = new double[longest + 1];

        for (int i = 0; i < pixels; i++)
        {
            squared[i] = editPixels[i] ? Far : 0;
        }

        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++)
            {
                line[y] = squared[(y * width) + x];
            }

            Transform1D(line.AsSpan(0, height), result, parabolas, bounds);
            for (int y = 0; y < height; y++)
            {
                squared[(y * width) + x] = result[y];
            }
        }

        for (int y = 0; y < height; y++)
        {
            squared.AsSpan(y * width, width).CopyTo(line);
            Transform1D(line.AsSpan(0, width), result, parabolas, bounds);
            result.AsSpan(0, width).CopyTo(squared.AsSpan(y * width, width));
        }

        return squared;
    }

    /// <summary>
    /// One-dimensional squared distance transform: result[q] = min over p of (q - p)^2 + f[p],
    /// by the lower envelope of parabolas (Felzenszwalb and Huttenlocher 2012).
    /// </summary>
    private static void Transform1D(ReadOnlySpan<double> f, double[] result, int[] parabolas, double[] bounds)
    {
        int n = f.Length;
        int k = 0;
        parabolas[0] = 0;
        bounds[0] = double.NegativeInfinity;
        bounds[1] = double.PositiveInfinity;
        for (int q = 1; q < n; q++)
        {
            // bounds[0] is -infinity, so the envelope never loses its first parabola slot.
            double s = Intersection(f, q, parabolas[k]);
            while (s <= bounds[k])
            {
                k--;
                s = Intersection(f, q, parabolas[k]);
            }

            k++;
            parabolas[k] = q;
            bounds[k] = s;
            bounds[k + 1] = double.PositiveInfinity;
        }

        k = 0;
        for (int q = 0; q < n; q++)
        {
            while (bounds[k + 1] < q)
            {
                k++;
            }

            int p = parabolas[k];
            result[q] = (((double)(q - p)) * (q - p)) + f[p];
        }
    }

    private static double Intersection(ReadOnlySpan<double> f, int q, int p) =>
        ((f[q] + ((double)q * q)) - (f[p] + ((double)p * p))) / (2.0 * (q - p));
}
