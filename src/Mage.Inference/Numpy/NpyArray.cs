using System.Collections.Immutable;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;

namespace Mage.Inference.Numpy;

/// <summary>
/// A C-ordered, little-endian n-dimensional array as stored in an NPY file: a dtype, a shape
/// and the raw element bytes.
/// </summary>
/// <remarks>
/// Immutable after construction and thread-safe for reads. Typed views (<see cref="AsFloat32"/>
/// and friends) alias the stored bytes without copying; the <c>To...Array</c> helpers copy and
/// convert. Assumes a little-endian host, as every platform .NET runs Mage on is.
/// </remarks>
public sealed class NpyArray
{
    private readonly byte[] data;
    private readonly ImmutableArray<int> shape;

    // Takes ownership of data; callers have already checked its length against the shape.
    private NpyArray(NpyDType dtype, ImmutableArray<int> shape, byte[] data)
    {
        DType = dtype;
        this.shape = shape;
        Shape = new ReadOnlyCollection<int>([.. shape]);
        this.data = data;
    }

    /// <summary>The element type.</summary>
    public NpyDType DType { get; }

    /// <summary>The dimensions, outermost first; empty for a 0-d (scalar) array.</summary>
    /// <remarks>A read-only list rather than an ImmutableArray, whose Equals compares references
    /// and so surprises anyone comparing shapes.</remarks>
    public IReadOnlyList<int> Shape { get; }

    internal ReadOnlySpan<int> ShapeSpan => shape.AsSpan();

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long Length => data.Length / DType.ItemSize();

    /// <summary>The raw little-endian element bytes, C order.</summary>
    public ReadOnlyMemory<byte> Data => data;

    /// <summary>Copies <paramref name="data"/> into a new array of the matching dtype.</summary>
    /// <exception cref="ArgumentException">The shape's product differs from the data length, or a dimension is negative.</exception>
    public static NpyArray Create<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        var dtype = NpyDTypes.For<T>();
        var count = ElementCount(shape);
        if (count != data.Length)
        {
            throw new ArgumentException(
                $"Shape ({string.Join(", ", shape.ToArray())}) holds {count} elements but {data.Length} were given.",
                nameof(data));
        }

        return new NpyArray(dtype, [.. shape], MemoryMarshal.AsBytes(data).ToArray());
    }

    /// <summary>Copies raw little-endian bytes into a new array.</summary>
    /// <exception cref="ArgumentException">The byte count is not the shape's product times the item size.</exception>
    public static NpyArray FromBytes(NpyDType dtype, ReadOnlySpan<int> shape, ReadOnlySpan<byte> data)
    {
        var expected = ElementCount(shape) * dtype.ItemSize();
        if (expected != data.Length)
        {
            throw new ArgumentException(
                $"Shape ({string.Join(", ", shape.ToArray())}) of {dtype.Descr()} needs {expected} bytes but {data.Length} were given.",
                nameof(data));
        }

        return Own(dtype, [.. shape], data.ToArray());
    }

    internal static NpyArray Own(NpyDType dtype, ImmutableArray<int> shape, byte[] data)
    {
        if (dtype == NpyDType.Bool)
        {
            // A bool outside 0/1 is undefined behaviour in .NET; numpy only ever writes 0 or 1,
            // but normalise rather than trust the file.
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = data[i] != 0 ? (byte)1 : (byte)0;
            }
        }

        return new NpyArray(dtype, shape, data);
    }

    /// <summary>Product of the dimensions; throws on a negative dimension or an overflow.</summary>
    internal static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Shape dimension {dimension} is negative.", nameof(shape));
            }

            count = checked(count * dimension);
        }

        return count;
    }

    public ReadOnlySpan<float> AsFloat32() => View<float>(NpyDType.Float32);

    public ReadOnlySpan<double> AsFloat64() => View<double>(NpyDType.Float64);

    public ReadOnlySpan<long> AsInt64() => View<long>(NpyDType.Int64);

    public ReadOnlySpan<int> AsInt32() => View<int>(NpyDType.Int32);

    public ReadOnlySpan<byte> AsUInt8() => View<byte>(NpyDType.UInt8);

    public ReadOnlySpan<bool> AsBool() => View<bool>(NpyDType.Bool);

    /// <summary>Copies the elements into a float array, converting from any dtype (float64
    /// rounds to nearest float; integers above 2^24 may lose precision).</summary>
    public float[] ToFloat32Array()
    {
        var result = new float[Length];
        switch (DType)
        {
            case NpyDType.Float32: AsFloat32().CopyTo(result); break;
            case NpyDType.Float64: Convert(AsFloat64(), result, static v => (float)v); break;
            case NpyDType.Int64: Convert(AsInt64(), result, static v => v); break;
            case NpyDType.Int32: Convert(AsInt32(), result, static v => v); break;
            default: Convert<byte, float>(data, result, static v => v); break;
        }

        return result;
    }

    /// <summary>Copies the elements into a long array, widening from any integer or bool dtype.</summary>
    /// <exception cref="InvalidOperationException">The dtype is floating point: converting would silently truncate.</exception>
    public long[] ToInt64Array()
    {
        var result = new long[Length];
        switch (DType)
        {
            case NpyDType.Int64: AsInt64().CopyTo(result); break;
            case NpyDType.Int32: Convert(AsInt32(), result, static v => v); break;
            case NpyDType.UInt8 or NpyDType.Bool: Convert<byte, long>(data, result, static v => v); break;
            default:
                throw new InvalidOperationException(
                    $"Array is {DType.Descr()}; ToInt64Array converts integer and bool arrays only. Use ToFloat32Array or AsFloat32/AsFloat64.");
        }

        return result;
    }

    public override string ToString() => $"NpyArray({DType.Descr()}, ({string.Join(", ", Shape)}))";

    private ReadOnlySpan<T> View<T>(NpyDType expected)
        where T : unmanaged
    {
        if (DType != expected)
        {
            throw new InvalidOperationException(
                $"Array is {DType.Descr()} but {expected.Descr()} was requested; use As{DType}() or a To...Array() conversion.");
        }

        return MemoryMarshal.Cast<byte, T>(data);
    }

    private static void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> source, Span<TTo> destination, Func<TFrom, TTo> convert)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = convert(source[i]);
        }
    }
}
