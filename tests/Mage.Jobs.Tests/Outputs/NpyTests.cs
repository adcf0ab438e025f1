using System.Text;
using Mage.Inference.Tests.Numpy;
using Mage.Jobs.Outputs;

namespace Mage.Jobs.Tests.Outputs;

/// <summary>
/// <see cref="Npy"/>'s bytes against two references that share no code with it: the NPY format 1.0
/// spelled out by hand (numpy.lib.format: the magic <c>\x93NUMPY</c>, version 1.0, a little-endian
/// uint16 header length, a Python dict literal padded with spaces and ended by a newline so that
/// magic, version, length and header together fill a multiple of 64 bytes, then the little-endian
/// C-order data), and numpy itself, which must load the file and save it again to the same bytes.
/// </summary>
public sealed class NpyTests
{
    // Every header here is 10 + 118 = 128 bytes, two 64-byte blocks: the dicts (57 to 59 characters) plus padding and newline fill 118.
    private const int HeaderLength = 118;

    private static readonly byte[] Float32Data =
    [
        0x00, 0x00, 0x80, 0x3F, // 1.0
        0x00, 0x00, 0x20, 0xC0, // -2.5
        0x00, 0x00, 0x00, 0x00, // 0.0
        0x00, 0x00, 0x00, 0x3F, // 0.5
        0x00, 0x00, 0x40, 0x40, // 3.0
        0x00, 0x00, 0x80, 0xBF, // -1.0
    ];

    [Fact]
    public void Float32_2x3_is_the_spec_header_and_little_endian_data()
    {
        var bytes = Npy.Float32([1f, -2.5f, 0f, 0.5f, 3f, -1f], 2, 3).ToArray();

        Assert.Equal([.. Header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), .. Float32Data], bytes);
    }

    [Fact]
    public void Float32Rows_is_one_2x3_array_row_after_row()
    {
        var bytes = Npy.Float32Rows([[1f, -2.5f, 0f], [0.5f, 3f, -1f]], 3).ToArray();

        Assert.Equal([.. Header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), .. Float32Data], bytes);
    }

    [Fact]
    public void Int64_vector_has_a_one_element_shape_tuple()
    {
        var bytes = Npy.Int64([-1L, 1L << 40], 2).ToArray();

        byte[] data =
        [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // -1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // 2^40
        ];
        Assert.Equal([.. Header("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"), .. data], bytes);
    }

    [Fact]
    public void Int64_2x3_is_the_spec_header_and_little_endian_data()
    {
        var bytes = Npy.Int64([0, 1, -2, 3, 4, long.MaxValue], 2, 3).ToArray();

        byte[] data =
        [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 0
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 1
            0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // -2
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 3
            0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 4
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, // 2^63 - 1
        ];
        Assert.Equal([.. Header("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }"), .. data], bytes);
    }

    [PythonFact]
    public void Numpy_reads_each_file_as_written_and_saves_it_to_the_same_bytes()
    {
        using var folder = new TempFolder();
        var files = new (string Name, BinaryData Bytes, string Expected)[]
        {
            ("f32.npy", Npy.Float32([1f, -2.5f, 0f, 0.5f, 3f, -1f], 2, 3), "<f4 (2, 3) [[1.0, -2.5, 0.0], [0.5, 3.0, -1.0]]"),
            ("rows.npy", Npy.Float32Rows([[0.25f, -8f], [1.5f, 65504f], [-0f, 7f]], 2), "<f4 (3, 2) [[0.25, -8.0], [1.5, 65504.0], [-0.0, 7.0]]"),
            ("i64.npy", Npy.Int64([-1L, 1L << 40, long.MinValue], 3), "<i8 (3,) [-1, 1099511627776, -9223372036854775808]"),
            ("i64x2.npy", Npy.Int64([0, 1, 2, 3, 4, 5], 2, 3), "<i8 (2, 3) [[0, 1, 2], [3, 4, 5]]"),
        };
        foreach (var (name, bytes, _) in files)
        {
            File.WriteAllBytes(folder[name], bytes.ToArray());
        }

        // For each file: numpy's own description of it, and whether np.save of what np.load read gives the file's bytes back.
        var output = Python.Run(
            """
            import io, sys
            import numpy as np
            for path in sys.argv[1:]:
                a = np.load(path)
                saved = io.BytesIO()
                np.save(saved, a)
                same = saved.getvalue() == open(path, "rb").read()
                print(a.dtype.str, a.shape, a.tolist(), same)
            """,
            [.. files.Select(f => folder[f.Name])]);

        Assert.Equal(files.Select(f => f.Expected + " True"), output.TrimEnd('\n').Split('\n'));
    }

    /// <summary>Magic, version 1.0, header length 118 little-endian, then the dict padded with spaces and a newline.</summary>
    private static byte[] Header(string dict) =>
    [
        0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y',
        0x01, 0x00,
        HeaderLength, 0x00,
        .. Encoding.ASCII.GetBytes(dict + new string(' ', HeaderLength - dict.Length - 1) + "\n"),
    ];
}
