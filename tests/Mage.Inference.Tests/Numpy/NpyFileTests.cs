using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Mage.Inference.Numpy;

namespace Mage.Inference.Tests.Numpy;

public sealed class NpyFileTests
{
    [Fact]
    public void Round_trips_every_dtype()
    {
        AssertRoundTrip<float>([1.5f, -0f, float.NaN, float.NegativeInfinity], [2, 2], a => a.AsFloat32().ToArray());
        AssertRoundTrip<double>([Math.E, double.Epsilon], [2], a => a.AsFloat64().ToArray());
        AssertRoundTrip<long>([long.MinValue, 1, long.MaxValue], [1, 3], a => a.AsInt64().ToArray());
        AssertRoundTrip<int>([int.MinValue, int.MaxValue], [2, 1], a => a.AsInt32().ToArray());
        AssertRoundTrip<byte>([0, 1, 254, 255], [4], a => a.AsUInt8().ToArray());
        AssertRoundTrip<bool>([true, false, false], [3], a => a.AsBool().ToArray());
        AssertRoundTrip<float>([2f], [], a => a.AsFloat32().ToArray());
        AssertRoundTrip<float>([], [3, 0], a => a.AsFloat32().ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void Header_is_padded_to_64_bytes_and_ends_with_a_newline(int dims)
    {
        var bytes = Write<float>(new float[1], Enumerable.Repeat(1, dims).ToArray());

        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(1, bytes[6]);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal((byte)'\n', bytes[10 + headerLength - 1]);
        Assert.Equal(10 + headerLength + 4, bytes.Length);
    }

    [Fact]
    public void Header_uses_python_tuple_syntax()
    {
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", HeaderText(Write<float>([1f], [])));
        Assert.Equal("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", HeaderText(Write<byte>([1, 2, 3], [3])));
        Assert.Equal("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", HeaderText(Write<long>([1, 2], [1, 2])));
    }

    [Fact]
    public void Version_2_is_used_when_the_header_outgrows_16_bits()
    {
        var shape = Enumerable.Repeat(1, 22000).ToArray();
        var bytes = Write<int>([7], shape);

        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, (12 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))) % 64);
        var array = NpyFile.Read(new MemoryStream(bytes));
        Assert.Equal(22000, array.Shape.Count);
        Assert.Equal([7], array.AsInt32().ToArray());
    }

    [Fact]
    public void Reads_from_a_non_seekable_stream()
    {
        var bytes = Write<long>([5, 6], [2]);

        var array = NpyFile.Read(new Imaging.ImageLoaderTests.NonSeekableStream(bytes));

        Assert.Equal([5L, 6], array.AsInt64().ToArray());
    }

    [Fact]
    public void Write_rejects_a_shape_that_does_not_match_the_data()
    {
        var ex = Assert.Throws<ArgumentException>(() => NpyFile.Write<float>(new MemoryStream(), [1f, 2f, 3f], [2, 2]));

        Assert.Contains("(2, 2)", ex.Message);
        Assert.Contains("3 were given", ex.Message);
    }

    [Fact]
    public void Typed_views_check_the_dtype_and_conversions_widen()
    {
        var bytes = NpyArray.Create<byte>([1, 200], [2]);

        Assert.Throws<InvalidOperationException>(() => bytes.AsFloat32().ToArray());
        Assert.Equal([1f, 200f], bytes.ToFloat32Array());
        Assert.Equal([1L, 200], bytes.ToInt64Array());

        var floats = NpyArray.Create<double>([1.5], [1]);
        Assert.Equal([1.5f], floats.ToFloat32Array());
        var ex = Assert.Throws<InvalidOperationException>(() => floats.ToInt64Array());
        Assert.Contains("<f8", ex.Message);
    }

    public static TheoryData<string, byte[], string> CorruptInputs => new()
    {
        { "bad magic", Encoding.ASCII.GetBytes("PK\u0003\u0004 not npy at all"), "magic" },
        { "too short", [0x93, (byte)'N', (byte)'U'], "ends while reading" },
        { "version 9", [0x93, .. "NUMPY"u8, 9, 0, 0, 0], "version 9.0" },
        { "header cut", Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [], headerLengthDelta: 40), "ends while reading the" },
        { "missing shape", Raw("{'descr': '<f4', 'fortran_order': False, }", new byte[8]), "missing key(s) shape" },
        { "unknown key", Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1, }", new byte[8]), "unexpected key 'x'" },
        { "not a dict", Raw("['descr', '<f4']", []), "expected '{'" },
        { "bad shape", Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", []), "non-negative integer" },
        { "huge dimension", Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", []), "larger than" },
        { "fortran", Raw("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]), "Fortran order" },
        { "object dtype", Raw("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "dtype '|O' is not supported" },
        { "data short", Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[20]), "= 24 data bytes, but the data is 20 bytes" },
        { "data long", Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[12]), "= 8 data bytes, but the data is 12 bytes" },
    };

    [Theory]
    [MemberData(nameof(CorruptInputs))]
    public void Corrupt_input_is_an_NpyFormatException_saying_what_is_wrong(string what, byte[] bytes, string expected)
    {
        var ex = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new MemoryStream(bytes)));

        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{what}: '{ex.Message}' lacks '{expected}'.");
    }

    [Fact]
    public void Short_and_long_data_are_caught_on_non_seekable_streams_too()
    {
        var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";

        var shortData = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new Imaging.ImageLoaderTests.NonSeekableStream(Raw(header, new byte[4]))));
        var longData = Assert.Throws<NpyFormatException>(() => NpyFile.Read(new Imaging.ImageLoaderTests.NonSeekableStream(Raw(header, new byte[9]))));

        Assert.Contains("the data is 4 bytes", shortData.Message);
        Assert.Contains("more follow", longData.Message);
    }

    [Fact]
    public void Npz_round_trips_stored_and_compressed()
    {
        foreach (var compressed in new[] { false, true })
        {
            using var stream = new MemoryStream();
            NpzFile.Write(
                stream,
                [("ids", NpyArray.Create<long>([1100, 2024], [1, 2])), ("x", NpyArray.Create<float>([0.5f], []))],
                compressed);
            stream.Position = 0;

            var arrays = NpzFile.Read(stream);

            Assert.Equal([1100L, 2024], arrays["ids"].AsInt64().ToArray());
            Assert.Equal([1, 2], arrays["ids"].Shape);
            Assert.Equal([0.5f], arrays["x"].AsFloat32().ToArray());
        }
    }

    [Fact]
    public void Npz_rejects_duplicate_names()
    {
        var a = NpyArray.Create<int>([1], [1]);

        var ex = Assert.Throws<ArgumentException>(() => NpzFile.Write(new MemoryStream(), [("a", a), ("a", a)]));

        Assert.Contains("'a'", ex.Message);
    }

    [Fact]
    public void Npz_that_is_not_a_zip_or_holds_a_bad_entry_is_an_NpyFormatException()
    {
        var notZip = Assert.Throws<NpyFormatException>(() => NpzFile.Read(new MemoryStream("plain text"u8.ToArray())));
        Assert.Contains("not a ZIP archive", notZip.Message);

        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("logits.npy").Open();
            entry.Write(Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new byte[3]));
        }

        stream.Position = 0;
        var badEntry = Assert.Throws<NpyFormatException>(() => NpzFile.Read(stream));
        Assert.Contains("'logits.npy'", badEntry.Message);
        Assert.Contains("16 data bytes", badEntry.Message);
    }

    private static void AssertRoundTrip<T>(T[] data, int[] shape, Func<NpyArray, T[]> view)
        where T : unmanaged
    {
        var bytes = Write<T>(data, shape);

        var array = NpyFile.Read(new MemoryStream(bytes));

        Assert.Equal(NpyDTypes.For<T>(), array.DType);
        Assert.Equal(shape, array.Shape);
        Assert.Equal(data, view(array));

        // Writing the array read back reproduces the file byte for byte.
        using var again = new MemoryStream();
        NpyFile.Write(again, array);
        Assert.Equal(bytes, again.ToArray());
    }

    private static byte[] Write<T>(T[] data, int[] shape)
        where T : unmanaged
    {
        using var stream = new MemoryStream();
        NpyFile.Write<T>(stream, data, shape);
        return stream.ToArray();
    }

    private static string HeaderText(byte[] npy)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(npy.AsSpan(8));
        return Encoding.ASCII.GetString(npy, 10, length).TrimEnd();
    }

    /// <summary>A version 1.0 file with a hand-written header (unpadded) and data.</summary>
    private static byte[] Raw(string header, byte[] data, int headerLengthDelta = 0)
    {
        var text = Encoding.ASCII.GetBytes(header + "\n");
        var bytes = new byte[10 + text.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(text.Length + headerLengthDelta));
        text.CopyTo(bytes, 10);
        data.CopyTo(bytes, 10 + text.Length);
        return bytes;
    }
}
