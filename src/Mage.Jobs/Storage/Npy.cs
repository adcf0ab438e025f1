using Mage.Inference.Numpy;

namespace Mage.Jobs.Storage;

/// <summary>Builds .npy files in memory. The bytes depend only on the data and shape (no timestamps).</summary>
internal static class Npy
{
    public static BinaryData Float32(ReadOnlySpan<float> data, params ReadOnlySpan<int> shape) => Encode(data, shape);

    public static BinaryData Int64(ReadOnlySpan<long> data, params ReadOnlySpan<int> shape) => Encode(data, shape);

    private static BinaryData Encode<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        using var stream = new MemoryStream();
        NpyFile.Write(stream, data, shape);
        return BinaryData.FromBytes(stream.ToArray());
    }
}
