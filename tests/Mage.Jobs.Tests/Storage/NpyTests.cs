using System.Text;
using Mage.Jobs.Outputs;

namespace Mage.Jobs.Tests.Storage;

/// <summary>
/// Checks the bytes against the NPY format 1.0 as numpy documents it (numpy.lib.format), read by
/// hand here rather than with Mage's own reader: magic, version, a little-endian uint16 header
/// length, a Python dict literal padded with spaces and a newline to a multiple of 64 bytes, then
/// the little-endian C-order data.
/// </summary>
public sealed class NpyTests
{
    [Fact]
    public void Float32_2x3_has_the_numpy_header_and_little_endian_data()
    {
        var bytes = Npy.Float32([1f, -2.5f, 0f, 0.5f, 3f, -1f], 2, 3).ToArray();

        var data = AssertHeader(bytes, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
        byte[] expected =
        [
            0x00, 0x00, 0x80, 0x3F, // 1.0
            0x00, 0x00, 0x20, 0xC0, // -2.5
            0x00, 0x00, 0x00, 0x00, // 0.0
            0x00, 0x00, 0x00, 0x3F, // 0.5
            0x00, 0x00, 0x40, 0x40, // 3.0
            0x00, 0x00, 0x80, 0xBF, // -1.0
        ];
        Assert.Equal(expected, data);
    }

    [Fact]
    public void Int64_vector_has_a_one_element_shape_tuple()
    {
        var bytes = Npy.Int64([-1L, 1L << 40], 2).ToArray();

        var data = AssertHeader(bytes, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }");
        byte[] expected =
        [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // -1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // 2^40
        ];
        Assert.Equal(expected, data);
    }

    [Fact]
    public void Int64_2x3_header()
    {
        var bytes = Npy.Int64([0, 1, 2, 3, 4, 5], 2, 3).ToArray();

        var data = AssertHeader(bytes, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }");
        Assert.Equal(48, data.Length);
        for (var i = 0; i < 6; i++)
        {
            // Element i is the value i: its low byte first, seven zero bytes after it.
            Assert.Equal(i, data[8 * i]);
            Assert.All(data[((8 * i) + 1)..(8 * (i + 1))], b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Same_data_gives_the_same_bytes()
    {
        Assert.Equal(Npy.Float32([1f, 2f], 2).ToArray(), Npy.Float32([1f, 2f], 2).ToArray());
    }

    /// <summary>Checks the preamble and header; returns the data bytes.</summary>
    private static byte[] AssertHeader(byte[] bytes, string dict)
    {
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }, bytes[..6]);
        Assert.Equal(1, bytes[6]); // major version
        Assert.Equal(0, bytes[7]); // minor version
        var headerLength = bytes[8] | (bytes[9] << 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.EndsWith("\n", header, StringComparison.Ordinal);
        Assert.Equal(dict, header.TrimEnd('\n').TrimEnd(' '));
        Assert.True(header[dict.Length..^1].All(c => c == ' '), "the padding is spaces only");
        return bytes[(10 + headerLength)..];
    }
}
