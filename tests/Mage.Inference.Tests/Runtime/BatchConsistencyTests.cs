using Mage.Inference.Decoding;
using Mage.Inference.Packages;
using Mage.Inference.Runtime;

namespace Mage.Inference.Tests.Runtime;

/// <summary>
/// Whether a row's outputs depend on the batch around it. Seeded generation is batch-invariant
/// only as far as the logits are, so this pins down how far that is on the CPU provider.
/// </summary>
public sealed class BatchConsistencyTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void Logits_of_a_row_are_bitwise_the_same_alone_and_in_a_batch()
    {
        var random = new Random(3);
        const int batch = 5;
        var ids = new long[batch * 257];
        for (var r = 0; r < batch; r++)
        {
            ids[r * 257] = MageTokens.FakeClassId;
            for (var p = 1; p < 257; p++)
            {
                ids[(r * 257) + p] = random.Next(3) == 0 ? MageTokens.MaskId : random.Next(1024);
            }
        }

        var together = new float[batch * 256 * 1024];
        fixture.Model.Logits(ids, batch, together);
        for (var r = 0; r < batch; r++)
        {
            var alone = new float[256 * 1024];
            fixture.Model.Logits(ids.AsMemory(r * 257, 257), 1, alone);
            Assert.True(alone.AsSpan().SequenceEqual(together.AsSpan(r * 256 * 1024, 256 * 1024)), $"row {r} differs alone vs in a batch of {batch}");
        }
    }

    /// <summary>
    /// Pooled features are not bitwise stable across batch sizes on the CPU provider (the pooling
    /// reductions vectorise by shape; observed ~1e-7 relative), so this holds them to 1e-6.
    /// </summary>
    [Fact]
    public void Features_of_a_row_agree_alone_and_in_a_batch()
    {
        var random = new Random(4);
        const int batch = 3;
        var tokens = Enumerable.Range(0, batch * 256).Select(_ => (long)random.Next(1024)).ToArray();
        var together = new float[batch * 64];
        fixture.Model.Features(tokens, batch, FeaturePooling.Linprobe, together);
        for (var r = 0; r < batch; r++)
        {
            var alone = new float[64];
            fixture.Model.Features(tokens.AsMemory(r * 256, 256), 1, FeaturePooling.Linprobe, alone);
            var error = GoldenCheck.RelativeL2(alone, together.AsSpan(r * 64, 64));
            Assert.True(error <= 1e-6, $"row {r} differs by {error} alone vs in a batch of {batch}");
        }
    }

    [Fact]
    public async Task Fixed_transformer_batches_pad_and_give_the_natural_results()
    {
        Assert.Equal(0, fixture.Model.FixedRows); // auto on the CPU: natural batches
        using var fixedModel = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu", FixedTransformerBatch = 4 });
        Assert.Equal(4, fixedModel.FixedRows);
        using var natural = MageModel.Load(new MageModelOptions { PackagePath = Fixtures.TinyPackage, Device = "cpu", FixedTransformerBatch = -1 });
        Assert.Equal(0, natural.FixedRows);

        // 6 rows = one full call of 4 and one padded call of 2 (+2 padding rows).
        var random = new Random(5);
        const int batch = 6;
        var ids = new long[batch * 257];
        for (var r = 0; r < batch; r++)
        {
            ids[r * 257] = MageTokens.FakeClassId;
            for (var p = 1; p < 257; p++)
            {
                ids[(r * 257) + p] = random.Next(4) == 0 ? MageTokens.MaskId : random.Next(1024);
            }
        }

        var expected = new float[batch * 256 * 1024];
        natural.Logits(ids, batch, expected);
        var actual = new float[batch * 256 * 1024];
        fixedModel.Logits(ids, batch, actual);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "fixed-size calls changed the logits");

        var rows = Enumerable.Range(0, batch)
            .Select(i => new DecodeRow(ids.AsSpan((i * 257) + 1, 256).ToArray(), Seed: 21, ImageIndex: i))
            .Append(new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, 256).ToArray(), Seed: 21, ImageIndex: 9))
            .ToArray();
        var options = new DecodeOptions(6, 4.5, Deterministic: false);
        var reference = await HostDecodeLoop.DecodeAsync(rows, options, natural.LogitsAsync);
        Assert.Equal(reference, fixedModel.Decode(rows, options));
        Assert.Equal(reference, await HostDecodeLoop.DecodeAsync(rows, options, fixedModel.LogitsAsync));
    }
}
