using System.Text;
using Mage.Inference.Numpy;

namespace Mage.Inference.Tests.Numpy;

/// <summary>The one token-file format, checked against the NPY 1.0 layout written out by hand.</summary>
public sealed class TokenFileTests
{
    [Fact]
    public void Grids_are_int64_n_by_256()
    {
        var grids = new[] { Enumerable.Range(0, 256).Select(i => (long)i).ToArray(), Enumerable.Repeat(1023L, 256).ToArray() };

        var bytes = TokenFile.ToBytes(grids);

        Assert.Equal("\u0093NUMPY", Encoding.Latin1.GetString(bytes, 0, 6));
        var headerLength = BitConverter.ToUInt16(bytes, 8);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<i8'", header, StringComparison.Ordinal);
        Assert.Contains("'shape': (2, 256)", header, StringComparison.Ordinal);
        var data = bytes.AsSpan(10 + headerLength);
        Assert.Equal(2 * 256 * 8, data.Length);
        Assert.Equal(255L, BitConverter.ToInt64(data.Slice(255 * 8, 8)));
        Assert.Equal(1023L, BitConverter.ToInt64(data.Slice(256 * 8, 8)));
    }

    [Fact]
    public void One_grid_is_int64_256()
    {
        var bytes = TokenFile.ToBytes(Enumerable.Repeat(7L, 256).ToArray());
        var header = Encoding.ASCII.GetString(bytes, 10, BitConverter.ToUInt16(bytes, 8));

        Assert.Contains("'descr': '<i8'", header, StringComparison.Ordinal);
        Assert.Contains("'shape': (256,)", header, StringComparison.Ordinal);
        Assert.Equal(NpyDType.Int64, TokenFile.DType);
    }

    [Fact]
    public void A_grid_of_the_wrong_length_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenFile.ToBytes([new long[256], new long[255]]));
        Assert.Contains("Token grid 1 has 255 ids", e.Message, StringComparison.Ordinal);
    }
}
