using Mage.Inference.Numpy;

namespace Mage.Jobs.Outputs;

/// <summary>
/// Builds .npy files in memory, for uploads' results and the CLI's arrays alike. The bytes depend
/// only on the data and shape (no timestamps). Stateless and thread-safe.
/// </summary>
public static class Npy
{
    public static BinaryData Float32(ReadOnlySpan<float> data, params ReadOnlySpan<int> shape) => Encode(data, shape);

    public static BinaryData Int64(ReadOnlySpan<long> data, params ReadOnlySpan<int> shape) => Encode(data, shape);

    /// <summary>Rows of <paramref name="width"/> floats as one float32 [rows, width] array.</summary>
    public static BinaryData Float32Rows(IReadOnlyList<float[]> rows, int width)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var data = new float[rows.Count * width];
        for (var r = 0; r < rows.Count; r++)
        {
            rows[r].CopyTo(data, r * width);
        }

        return Float32(data, rows.Count, width);
    }

    private static BinaryData Encode<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        using var stream = new MemoryStream();
        NpyFile.Write(stream, data, shape);
        return BinaryData.FromBytes(stream.ToArray());
    }
}
