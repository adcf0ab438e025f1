using System.Runtime.InteropServices;
using Mage.Inference.Decoding;

namespace Mage.Inference.Tests.Decoding;

public sealed class HostDecodeLoopTests
{
    private const long Mask = MageTokens.MaskId;

    public static TheoryData<int, int, bool> ReferenceCases()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int unknown in new[] { 256, 64, 1, 3 })
        {
            for (int steps = 1; steps <= 20; steps++)
            {
                data.Add(steps, unknown, true);
                data.Add(steps, unknown, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public async Task Equals_the_reference_implementation(int steps, int unknown, bool deterministic)
    {
        // Coarse logits on even step counts exercise argmax and confidence ties.
        var model = new FakeLogitsModel(seed: steps, coarse: steps % 2 == 0);
        var options = new DecodeOptions(steps, Temperature: 4.5, deterministic);
        var rows = new[]
        {
            MakeRow(unknown, seed: 11, imageIndex: 0, layoutSeed: steps),
            MakeRow(unknown, seed: 12, imageIndex: 5, layoutSeed: steps + 100),
        };

        long[][] actual = await HostDecodeLoop.DecodeAsync(rows, options, model.Function);

        for (int r = 0; r < rows.Length; r++)
        {
            Assert.Equal(ReferenceDecoder.Decode(rows[r], options, model), actual[r]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rows_decode_the_same_alone_and_inside_a_batch_of_64(bool deterministic)
    {
        var model = new FakeLogitsModel(seed: 3, coarse: false);
        var options = new DecodeOptions(Steps: 6, Temperature: 6.0, deterministic);
        var random = new Random(99);
        var batch = new DecodeRow[64];
        int[] unknownCounts = [256, 200, 64, 17, 3, 1, 0];
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] = MakeRow(unknownCounts[random.Next(unknownCounts.Length)], seed: (ulong)random.Next(), imageIndex: i, layoutSeed: 1000 + i);
        }

        // The rows under test sit at random positions among the filler rows.
        int[] probes = Enumerable.Range(0, 64).OrderBy(_ => random.Next()).Take(8).ToArray();
        for (int k = 0; k < probes.Length; k++)
        {
            batch[probes[k]] = MakeRow(unknownCounts[k % unknownCounts.Length], seed: 500 + (ulong)k, imageIndex: k, layoutSeed: k);
        }

        long[][] batched = await HostDecodeLoop.DecodeAsync(batch, options, model.Function);

        for (int i = 0; i < batch.Length; i++)
        {
            AssertValidResult(batch[i].InitialTokens, batched[i]);
        }

        foreach (int probe in probes)
        {
            long[][] alone = await HostDecodeLoop.DecodeAsync([batch[probe]], options, model.Function);
            Assert.Equal(alone[0], batched[probe]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Results_are_reproducible(bool deterministic)
    {
        var model = new FakeLogitsModel(seed: 4, coarse: true);
        var options = new DecodeOptions(Steps: 8, Temperature: 4.5, deterministic);
        DecodeRow[] rows = [MakeRow(256, 1, 0, 1), MakeRow(40, 2, 1, 2)];

        long[][] first = await HostDecodeLoop.DecodeAsync(rows, options, model.Function);
        long[][] second = await HostDecodeLoop.DecodeAsync(rows, options, model.Function);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Sampling_depends_on_seed_and_image_index()
    {
        var model = new FakeLogitsModel(seed: 5, coarse: false);
        var options = new DecodeOptions(Steps: 4, Temperature: 4.5, Deterministic: false);
        long[] allUnknown = Enumerable.Repeat(Mask, 256).ToArray();

        long[][] results = await HostDecodeLoop.DecodeAsync(
            [new DecodeRow(allUnknown, 1, 0), new DecodeRow(allUnknown, 2, 0), new DecodeRow(allUnknown, 1, 1)],
            options,
            model.Function);

        Assert.NotEqual(results[0], results[1]);
        Assert.NotEqual(results[0], results[2]);
    }

    [Theory]
    [InlineData(12, 256, true)]
    [InlineData(12, 256, false)]
    [InlineData(20, 64, false)]
    [InlineData(7, 3, true)]
    [InlineData(5, 1, false)]
    [InlineData(64, 100, false)]
    public async Task Unknown_positions_follow_the_schedule(int steps, int unknown, bool deterministic)
    {
        // Fine logits: no confidence ties, so exactly mask_len positions are re-masked.
        var model = new FakeLogitsModel(seed: 6, coarse: false);
        var options = new DecodeOptions(steps, Temperature: 4.5, deterministic);

        await HostDecodeLoop.DecodeAsync([MakeRow(unknown, 9, 0, 9)], options, model.Function);

        Assert.Equal(steps, model.Calls);
        int expected = unknown;
        for (int t = 0; t < steps; t++)
        {
            Assert.Equal(expected, model.UnknownCounts[t][0]);
            double ratio = (t + 1.0) / steps;
            expected = (int)Math.Max(1, Math.Min(expected - 1, Math.Floor(unknown * Math.Cos(Math.PI / 2 * ratio))));
        }
    }

    [Fact]
    public async Task Rows_without_unknown_positions_are_returned_unchanged_without_a_model_call()
    {
        var model = new FakeLogitsModel(seed: 7, coarse: false);
        DecodeRow known = MakeRow(0, 1, 0, 1);

        long[][] alone = await HostDecodeLoop.DecodeAsync([known], new DecodeOptions(5, 1, false), model.Function);
        Assert.Equal(0, model.Calls);
        Assert.Equal(known.InitialTokens, alone[0]);
        Assert.NotSame(known.InitialTokens, alone[0]);

        long[][] mixed = await HostDecodeLoop.DecodeAsync([known, MakeRow(10, 2, 1, 2), known], new DecodeOptions(5, 1, false), model.Function);
        Assert.Equal(5, model.Calls);
        Assert.All(model.UnknownCounts, counts => Assert.Single(counts));
        Assert.Equal(known.InitialTokens, mixed[0]);
        Assert.Equal(known.InitialTokens, mixed[2]);
    }

    [Fact]
    public async Task The_model_sees_the_same_buffers_every_step()
    {
        var arrays = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var model = new FakeLogitsModel(seed: 8, coarse: false);
        LogitsFunction recording = (ids, rows, logits, ct) =>
        {
            Assert.True(MemoryMarshal.TryGetArray(ids, out var idArray));
            Assert.True(MemoryMarshal.TryGetArray<float>(logits, out var logitArray));
            arrays.Add(idArray.Array!);
            arrays.Add(logitArray.Array!);
            Assert.Equal(rows * 257, ids.Length);
            Assert.Equal(rows * 256 * 1024, logits.Length);
            return model.Function(ids, rows, logits, ct);
        };

        await HostDecodeLoop.DecodeAsync([MakeRow(256, 1, 0, 1), MakeRow(30, 1, 1, 2)], new DecodeOptions(10, 2, false), recording);

        Assert.Equal(2, arrays.Count);
    }

    [Fact]
    public async Task Progress_reports_each_completed_step()
    {
        var model = new FakeLogitsModel(seed: 9, coarse: false);
        var reported = new List<int>();

        await HostDecodeLoop.DecodeAsync([MakeRow(50, 1, 0, 1)], new DecodeOptions(6, 1, true), model.Function, new SynchronousProgress<int>(reported.Add));

        Assert.Equal([1, 2, 3, 4, 5, 6], reported);
    }

    [Fact]
    public async Task Cancellation_stops_between_steps()
    {
        var model = new FakeLogitsModel(seed: 10, coarse: false);
        using var cancellation = new CancellationTokenSource();
        int calls = 0;
        LogitsFunction cancelling = async (ids, rows, logits, ct) =>
        {
            await model.Function(ids, rows, logits, ct);
            if (++calls == 3)
            {
                await cancellation.CancelAsync();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await HostDecodeLoop.DecodeAsync([MakeRow(256, 1, 0, 1)], new DecodeOptions(12, 1, false), cancelling, cancellationToken: cancellation.Token));
        Assert.Equal(3, calls);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(257, 1.0)]
    [InlineData(12, -0.5)]
    [InlineData(12, double.NaN)]
    [InlineData(12, double.PositiveInfinity)]
    public async Task Invalid_options_are_rejected(int steps, double temperature)
    {
        var model = new FakeLogitsModel(seed: 11, coarse: false);
        var error = await Assert.ThrowsAsync<InvalidRequestException>(async () =>
            await HostDecodeLoop.DecodeAsync([MakeRow(10, 1, 0, 1)], new DecodeOptions(steps, temperature, false), model.Function));
        Assert.Contains(steps is < 1 or > 256 ? "Steps" : "Temperature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_rows_are_rejected_with_the_offending_value()
    {
        var model = new FakeLogitsModel(seed: 12, coarse: false);
        var options = new DecodeOptions(4, 1, false);
        long[] badId = Enumerable.Repeat(Mask, 256).ToArray();
        badId[17] = 1500;

        var tooShort = await Assert.ThrowsAsync<InvalidRequestException>(async () =>
            await HostDecodeLoop.DecodeAsync([new DecodeRow(new long[255], 1, 0)], options, model.Function));
        Assert.Contains("255", tooShort.Message, StringComparison.Ordinal);

        var outOfRange = await Assert.ThrowsAsync<InvalidRequestException>(async () =>
            await HostDecodeLoop.DecodeAsync([MakeRow(3, 1, 0, 1), new DecodeRow(badId, 1, 0)], options, model.Function));
        Assert.Contains("Row 1 position 17 holds id 1500", outOfRange.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<InvalidRequestException>(async () =>
            await HostDecodeLoop.DecodeAsync([null!], options, model.Function));
        Assert.Equal(0, model.Calls);
    }

    [Fact]
    public async Task Non_finite_logits_are_reported()
    {
        LogitsFunction broken = (ids, rows, logits, ct) =>
        {
            logits.Span.Fill(0);
            logits.Span[5] = float.NaN;
            return ValueTask.CompletedTask;
        };

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await HostDecodeLoop.DecodeAsync([MakeRow(256, 1, 0, 1)], new DecodeOptions(4, 1, true), broken));
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await HostDecodeLoop.DecodeAsync([MakeRow(256, 1, 0, 1), MakeRow(9, 1, 1, 2)], new DecodeOptions(4, 1, false), broken));
    }

    [Fact]
    public async Task An_empty_request_returns_no_rows()
    {
        var model = new FakeLogitsModel(seed: 13, coarse: false);
        Assert.Empty(await HostDecodeLoop.DecodeAsync([], new DecodeOptions(4, 1, true), model.Function));
    }

    /// <summary>
    /// A row with <paramref name="unknown"/> masked positions at random places and random known
    /// codebook ids elsewhere.
    /// </summary>
    internal static DecodeRow MakeRow(int unknown, ulong seed, long imageIndex, int layoutSeed)
    {
        var random = new Random(layoutSeed);
        long[] tokens = new long[256];
        for (int p = 0; p < tokens.Length; p++)
        {
            tokens[p] = random.Next(1024);
        }

        foreach (int p in Enumerable.Range(0, 256).OrderBy(_ => random.Next()).Take(unknown))
        {
            tokens[p] = Mask;
        }

        return new DecodeRow(tokens, seed, imageIndex);
    }

    private static void AssertValidResult(long[] initial, long[] result)
    {
        Assert.Equal(256, result.Length);
        for (int p = 0; p < 256; p++)
        {
            Assert.InRange(result[p], 0, 1023);
            if (initial[p] != Mask)
            {
                Assert.Equal(initial[p], result[p]);
            }
        }
    }
}
