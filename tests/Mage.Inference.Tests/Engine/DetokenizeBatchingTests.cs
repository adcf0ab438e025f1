using Mage.Inference.Engine;
using Mage.Inference.Tests.Runtime;

namespace Mage.Inference.Tests.Engine;

/// <summary>
/// Detokenizing goes through one batcher, so concurrent generations and edits never run the
/// detokenizer side by side (each run holds a batch of full-resolution activations), and rows of
/// different callers share runs without changing their images.
/// </summary>
public sealed class DetokenizeBatchingTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public async Task Concurrent_callers_share_detokenizer_runs_and_get_the_images_they_would_alone()
    {
        await using var engine = new MageEngine(fixture.Model, new MageEngineOptions { DetokenizeBatch = 16 });
        var random = new Random(5);
        var grids = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, MageTokens.Count).Select(_ => (long)random.Next(MageTokens.CodebookSize)).ToArray()).ToArray();

        var images = await Task.WhenAll(grids.Chunk(2).Select(pair => engine.DetokenizeAsync(pair)));

        var statistics = engine.DetokenizeStatistics;
        Assert.Equal(6, statistics.RequestsBatched);
        Assert.True(statistics.BatchesRun < 6, $"{statistics.BatchesRun} detokenizer runs for 6 concurrent rows: nothing was shared");
        var together = images.SelectMany(i => i).ToArray();
        for (var r = 0; r < grids.Length; r++)
        {
            var alone = new float[3 * MageTokens.ImageSize * MageTokens.ImageSize];
            fixture.Model.Detokenize(grids[r], 1, alone);
            using var image = together[r];
            // Batch size may change convolution results in the last float bits, so a channel may round to a neighbouring byte.
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < row.Length; x++)
                    {
                        AssertClose(alone, 0, y, x, row[x].R);
                        AssertClose(alone, 1, y, x, row[x].G);
                        AssertClose(alone, 2, y, x, row[x].B);
                    }
                }
            });
        }
    }

    [Fact]
    public async Task A_request_larger_than_a_batch_is_detokenized_a_batch_at_a_time_in_order()
    {
        await using var engine = new MageEngine(fixture.Model, new MageEngineOptions { DetokenizeBatch = 4 });
        var random = new Random(6);
        var grids = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, MageTokens.Count).Select(_ => (long)random.Next(MageTokens.CodebookSize)).ToArray()).ToArray();

        var images = await engine.DetokenizeAsync(grids);

        var statistics = engine.DetokenizeStatistics;
        Assert.Equal(10, statistics.RequestsBatched);
        Assert.True(statistics.BatchesRun >= 3, $"{statistics.BatchesRun} runs for 10 rows in batches of at most 4");
        foreach (var r in new[] { 0, 9 })
        {
            var alone = new float[3 * MageTokens.ImageSize * MageTokens.ImageSize];
            fixture.Model.Detokenize(grids[r], 1, alone);
            images[r].ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < row.Length; x++)
                    {
                        AssertClose(alone, 0, y, x, row[x].R);
                    }
                }
            });
        }

        foreach (var image in images)
        {
            image.Dispose();
        }
    }

    private static void AssertClose(float[] chw, int channel, int y, int x, byte actual)
    {
        var expected = chw[(((channel * MageTokens.ImageSize) + y) * MageTokens.ImageSize) + x] * 255f;
        Assert.True(Math.Abs(expected - actual) <= 1f, $"pixel ({x},{y}) channel {channel}: {actual}, alone {expected:F2}");
    }
}
