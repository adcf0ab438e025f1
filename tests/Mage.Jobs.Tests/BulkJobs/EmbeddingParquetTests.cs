using Mage.Jobs.Outputs;

namespace Mage.Jobs.Tests.BulkJobs;

public sealed class EmbeddingParquetTests
{
    [Fact]
    public async Task Rows_with_embeddings_and_rows_with_errors_round_trip()
    {
        EmbeddingRow[] rows =
        [
            new() { Name = "a.jpg", Etag = "\"0x1\"", Embedding = [1.5f, -2f, 0.25f] },
            new() { Name = "dir/b.png", Etag = null, Error = "The image could not be decoded." },
            new() { Name = "c.jpg", Etag = "\"0x3\"", Embedding = [float.MaxValue, float.Epsilon, -0f] },
        ];

        var bytes = await ParquetTable.ToBytesAsync(rows);
        using var stream = new MemoryStream(bytes);
        var read = await ParquetTable.ReadAsync<EmbeddingRow>(stream);

        Assert.Equal(3, read.Count);
        Assert.Equal("a.jpg", read[0].Name);
        Assert.Equal("\"0x1\"", read[0].Etag);
        Assert.Equal(new[] { 1.5f, -2f, 0.25f }, read[0].Embedding);
        Assert.Null(read[0].Error);

        Assert.Equal("dir/b.png", read[1].Name);
        Assert.Null(read[1].Etag);
        Assert.Null(read[1].Embedding);
        Assert.Equal("The image could not be decoded.", read[1].Error);

        Assert.Equal("c.jpg", read[2].Name);
        Assert.Equal(new[] { float.MaxValue, float.Epsilon, -0f }, read[2].Embedding);
    }

    [Fact]
    public async Task The_bytes_are_a_parquet_file()
    {
        var bytes = await ParquetTable.ToBytesAsync([new EmbeddingRow { Name = "a.jpg", Embedding = [1f] }]);

        // A Parquet file starts and ends with the magic "PAR1".
        Assert.Equal("PAR1"u8.ToArray(), bytes[..4]);
        Assert.Equal("PAR1"u8.ToArray(), bytes[^4..]);
    }
}
