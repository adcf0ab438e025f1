using Mage.Cli.Output;
using Mage.Inference.Numpy;

namespace Mage.Cli.Tests.Output;

/// <summary>The .npy files the CLI writes, byte for byte.</summary>
public sealed class ArrayFilesTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Float_rows_are_the_bytes_of_one_float32_array_of_their_concatenation()
    {
        float[][] rows = [[1f, -2.5f, 3e-8f], [float.MaxValue, 0f, -0f]];
        var path = temp["sub/emb.npy"];

        ArrayFiles.WriteFloatRows(path, rows, 3);

        // What embed wrote before it went through Mage.Jobs' Npy builder: the same bytes.
        using var expected = new MemoryStream();
        NpyFile.Write<float>(expected, [.. rows.SelectMany(r => r)], [2, 3]);
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
        var read = NpyFile.Read(path);
        Assert.Equal([2, 3], read.Shape);
        Assert.Equal(rows.SelectMany(r => r), read.AsFloat32().ToArray());
    }
}
