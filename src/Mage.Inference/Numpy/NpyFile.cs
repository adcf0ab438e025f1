using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;

namespace Mage.Inference.Numpy;

/// <summary>
/// Reads and writes single arrays in the NPY format (versions 1.0, 2.0 and, for reading, 3.0),
/// as specified by <c>numpy.lib.format</c>: magic, version, header length, a Python dict literal
/// padded with spaces and a newline to a 64-byte boundary, then the raw C-order data.
/// </summary>
/// <remarks>Stateless and thread-safe. Streams are left open.</remarks>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int Alignment = 64;

    // Headers longer than this are not something numpy writes for the dtypes we support; the cap
    // stops a hostile length field from making us allocate gigabytes for the header.
    private const int MaxHeaderBytes = 1 << 20;

    /// <summary>Reads one array from an NPY file.</summary>
    public static NpyArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>
    /// Reads one array from <paramref name="stream"/>, which must hold exactly one NPY document:
    /// data missing or trailing after the array is an error. Non-seekable streams work.
    /// </summary>
    /// <exception cref="NpyFormatException">Bad magic, version, header or data length; unsupported dtype or Fortran order.</exception>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long? available = stream.CanSeek ? stream.Length - stream.Position : null;
        return Read(stream, available);
    }

    internal static NpyArray Read(Stream stream, long? available)
    {
        Span<byte> preamble = stackalloc byte[8];
        ReadExactly(stream, preamble, "the magic string and version");
        if (!preamble[..6].SequenceEqual(Magic))
        {
            throw new NpyFormatException(
                $"Not an NPY file: it starts with {Convert.ToHexString(preamble[..6])}, not the magic 934E554D5059 ('\\x93NUMPY').");
        }

        var major = preamble[6];
        var minor = preamble[7];
        if (major is not (1 or 2 or 3) || minor != 0)
        {
            throw new NpyFormatException($"NPY version {major}.{minor} is not supported; supported versions are 1.0, 2.0 and 3.0.");
        }

        int headerLength;
        int prefixLength;
        if (major == 1)
        {
            Span<byte> length = stackalloc byte[2];
            ReadExactly(stream, length, "the header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(length);
            prefixLength = 10;
        }
        else
        {
            Span<byte> length = stackalloc byte[4];
            ReadExactly(stream, length, "the header length");
            var declared = BinaryPrimitives.ReadUInt32LittleEndian(length);
            if (declared > MaxHeaderBytes)
            {
                throw new NpyFormatException($"NPY header length {declared} bytes exceeds the {MaxHeaderBytes}-byte limit.");
            }

            headerLength = (int)declared;
            prefixLength = 12;
        }

        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, $"the {headerLength}-byte header");

        // Version 1 and 2 headers are latin-1; version 3 is UTF-8.
        var header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var (dtype, fortranOrder, shape) = NpyHeader.Parse(header);
        if (fortranOrder)
        {
            throw new NpyFormatException(
                $"NPY array of shape ({string.Join(", ", shape)}) is in Fortran order; only C order is supported. Save with np.ascontiguousarray(arr).");
        }

        long count;
        try
        {
            count = NpyArray.ElementCount(shape.AsSpan());
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException)
        {
            throw new NpyFormatException($"NPY header shape ({string.Join(", ", shape)}) is invalid: {ex.Message}", ex);
        }

        var dataLength = count > long.MaxValue / 8 ? long.MaxValue : count * dtype.ItemSize();
        if (available is { } total && dataLength != total - prefixLength - headerLength)
        {
            throw DataLengthMismatch(shape, dtype, dataLength, total - prefixLength - headerLength);
        }

        if (dataLength > Array.MaxLength)
        {
            throw new NpyFormatException(
                $"NPY array of shape ({string.Join(", ", shape)}) {dtype.Descr()} needs {dataLength} bytes; at most {Array.MaxLength} fit in one array.");
        }

        var data = new byte[dataLength];
        var read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read != data.Length)
        {
            throw DataLengthMismatch(shape, dtype, dataLength, read);
        }

        if (available is null && stream.ReadByte() >= 0)
        {
            throw new NpyFormatException(
                $"NPY array of shape ({string.Join(", ", shape)}) {dtype.Descr()} should hold {dataLength} data bytes but more follow.");
        }

        return NpyArray.Own(dtype, shape, data);
    }

    /// <summary>Writes <paramref name="array"/> as an NPY document (version 1.0, or 2.0 when the header needs it).</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        WriteHeader(stream, array.DType, array.ShapeSpan);
        stream.Write(array.Data.Span);
    }

    /// <summary>Writes <paramref name="data"/> with <paramref name="shape"/> as an NPY document.
    /// <typeparamref name="T"/> is float, double, long, int, byte or bool.</summary>
    /// <exception cref="ArgumentException">The shape's product differs from the data length.</exception>
    public static void Write<T>(Stream stream, ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        var dtype = NpyDTypes.For<T>();
        var count = NpyArray.ElementCount(shape);
        if (count != data.Length)
        {
            throw new ArgumentException(
                $"Shape ({string.Join(", ", shape.ToArray())}) holds {count} elements but {data.Length} were given.",
                nameof(data));
        }

        WriteHeader(stream, dtype, shape);
        stream.Write(MemoryMarshal.AsBytes(data));
    }

    /// <summary>Writes one array to a new file (replacing any existing one).</summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.Create(path);
        Write(stream, array);
    }

    private static void WriteHeader(Stream stream, NpyDType dtype, ReadOnlySpan<int> shape)
    {
        var header = NpyHeader.Format(dtype, shape);

        // numpy picks the oldest version whose 16-bit length field can hold the header.
        var version = header.Length + 1 + 10 <= ushort.MaxValue ? 1 : 2;
        var prefixLength = version == 1 ? 10 : 12;
        var padded = header.Length + 1 + prefixLength;
        var padding = (Alignment - (padded % Alignment)) % Alignment;
        var headerLength = header.Length + padding + 1;

        var bytes = new byte[prefixLength + headerLength];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)version;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        }

        Encoding.Latin1.GetBytes(header, bytes.AsSpan(prefixLength));
        bytes.AsSpan(prefixLength + header.Length, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        stream.Write(bytes);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read != buffer.Length)
        {
            throw new NpyFormatException(
                $"NPY input ends while reading {what}: {read} of {buffer.Length} bytes present.");
        }
    }

    private static NpyFormatException DataLengthMismatch(ImmutableArray<int> shape, NpyDType dtype, long expected, long actual) => new(
        $"NPY header declares shape ({string.Join(", ", shape)}) {dtype.Descr()} = {expected} data bytes, but the data is {actual} bytes.");
}
