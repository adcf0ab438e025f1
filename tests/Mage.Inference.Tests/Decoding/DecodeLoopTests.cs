using Mage.Inference.Decoding;
using Mage.Inference.Editing;
using Mage.Inference.Engine;
using Mage.Inference.Tests.Engine;
using Mage.Inference.Tests.Runtime;

namespace Mage.Inference.Tests.Decoding;

/// <summary>The two places the schedule can run give the same images; the device loop merges concurrent requests.</summary>
public sealed class DecodeLoopTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public async Task Generation_and_editing_give_the_same_tokens_on_either_loop()
    {
        await using var host = new MageEngine(fixture.Model, new MageEngineOptions { Loop = DecodeLoop.Host });
        await using var device = new MageEngine(fixture.Model, new MageEngineOptions { Loop = DecodeLoop.Device });
        var request = new GenerateRequest(Count: 5, Seed: 9, Steps: 8);
        Assert.Equal(await host.GenerateTokensAsync(request), await device.GenerateTokensAsync(request));

        using var picture = EngineTests.Picture(3);
        var options = new EditOptions(Steps: 6, Seed: 4);
        using var hostEdit = await host.InpaintAsync(picture, [new PixelBox(32, 32, 100, 60)], options: options);
        using var deviceEdit = await device.InpaintAsync(picture, [new PixelBox(32, 32, 100, 60)], options: options);
        Assert.Equal(hostEdit.Tokens, deviceEdit.Tokens);
    }

    [Fact]
    public async Task Concurrent_edits_with_the_same_settings_share_one_decode()
    {
        var options = new MageEngineOptions
        {
            Loop = DecodeLoop.Device,
            Decode = new() { Name = "decode", MaxBatchSize = 64, MaxWait = TimeSpan.FromMilliseconds(500) },
        };
        await using var device = new MageEngine(fixture.Model, options);
        await using var host = new MageEngine(fixture.Model, new MageEngineOptions { Loop = DecodeLoop.Host });
        using var picture = EngineTests.Picture(8);
        var boxes = Enumerable.Range(0, 6).Select(i => new PixelBox(16 * i, 16 * i, 64, 48)).ToArray();
        var edit = new EditOptions(Steps: 5, Seed: 2);

        var results = await Task.WhenAll(boxes.Select(box => device.InpaintAsync(picture, [box], options: edit)));

        var statistics = device.DecodeStatistics;
        Assert.Equal(6, statistics.RequestsBatched);
        Assert.True(statistics.BatchesRun < 6, $"{statistics.BatchesRun} decodes for 6 concurrent edits: nothing was merged");
        for (var i = 0; i < boxes.Length; i++)
        {
            using var alone = await host.InpaintAsync(picture, [boxes[i]], options: edit);
            Assert.Equal(alone.Tokens, results[i].Tokens);
            results[i].Dispose();
        }
    }
}
