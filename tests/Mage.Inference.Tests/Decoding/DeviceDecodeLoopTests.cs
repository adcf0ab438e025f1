using Mage.Inference.Decoding;
using Mage.Inference.Runtime;
using Mage.Inference.Tests.Runtime;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Mage.Inference.Tests.Decoding;

/// <summary>
/// The schedule with its state on the model's device (<see cref="MageModel.Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/>,
/// the sampler graph), run here on the CPU provider, against the plain reference decoder and the
/// host decoder: the same ids, case for case.
/// </summary>
public sealed class DeviceDecodeLoopTests : IClassFixture<TinyModelFixture>
{
    private readonly TinyModelFixture fixture;
    private readonly ITestOutputHelper output;

    public DeviceDecodeLoopTests(TinyModelFixture fixture, ITestOutputHelper output)
    {
        this.fixture = fixture;
        this.output = output;
    }

    private MageModel Model => fixture.Model;

    public static TheoryData<int, int, bool> ReferenceCases() => HostDecodeLoopTests.ReferenceCases();

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void The_sampler_graph_equals_the_reference_implementation(int steps, int unknown, bool deterministic)
    {
        // Coarse logits on even step counts exercise argmax and confidence ties.
        var fake = new FakeLogitsModel(seed: steps, coarse: steps % 2 == 0);
        var options = new DecodeOptions(steps, Temperature: 4.5, deterministic);
        var rows = new[]
        {
            HostDecodeLoopTests.MakeRow(unknown, seed: 11, imageIndex: 0, layoutSeed: steps),
            HostDecodeLoopTests.MakeRow(unknown, seed: 12, imageIndex: 5, layoutSeed: steps + 100),
        };

        var actual = Model.Decode(rows, options, FakeOnDevice(fake), progress: null, CancellationToken.None);

        for (var r = 0; r < rows.Length; r++)
        {
            Assert.Equal(ReferenceDecoder.Decode(rows[r], options, fake), actual[r]);
        }
    }

    [Fact]
    public async Task More_rows_than_one_natural_chunk_decode_like_the_host()
    {
        // 90 rows, 72 of them with unknown positions: a chunk of 64 and one of 8, in lock-step.
        var fake = new FakeLogitsModel(seed: 4, coarse: false);
        var options = new DecodeOptions(3, Temperature: 4.5, Deterministic: false);
        var rows = Enumerable.Range(0, 90)
            .Select(i => HostDecodeLoopTests.MakeRow(i % 5 == 0 ? 0 : 30 + i, seed: 8, imageIndex: i, layoutSeed: i))
            .ToArray();

        var expected = await HostDecodeLoop.DecodeAsync(rows, options, fake.Function);
        var calls = 0;
        var actual = Model.Decode(rows, options, (ids, device, run) => { calls++; return FakeOnDevice(fake)(ids, device, run); }, null, CancellationToken.None);

        Assert.Equal(expected, actual);
        Assert.Equal(2 * 3, calls);
    }

    [Theory]
    [InlineData(20, 6.0, false)]
    [InlineData(12, 4.5, false)]
    [InlineData(8, 0.0, true)]
    public async Task Generation_on_the_real_model_equals_the_host_decoder(int steps, double temperature, bool deterministic)
    {
        var options = new DecodeOptions(steps, temperature, deterministic);
        var rows = Enumerable.Range(0, 4)
            .Select(i => new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, 256).ToArray(), Seed: 7, ImageIndex: i))
            .ToArray();

        var host = await Model.DecodeOnHostAsync(rows, options);
        var device = Model.Decode(rows, options);

        for (var r = 0; r < rows.Length; r++)
        {
            Assert.Equal(host[r], device[r]);
        }

        output.WriteLine($"{rows.Length} rows, {steps} steps: identical; {device.SelectMany(x => x).Distinct().Count()} distinct ids");
    }

    [Fact]
    public async Task Edits_with_different_unknown_counts_in_one_batch_equal_the_host_decoder()
    {
        var golden = fixture.Golden["tokens"].ToInt64Array();
        var rows = new List<DecodeRow>();
        foreach (var (unknown, index) in new[] { (64, 0), (0, 1), (3, 2), (200, 3), (1, 4) })
        {
            var tokens = golden[..256];
            var random = new Random(index);
            foreach (var p in Enumerable.Range(0, 256).OrderBy(_ => random.Next()).Take(unknown))
            {
                tokens[p] = MageTokens.MaskId;
            }

            rows.Add(new DecodeRow(tokens, Seed: 3, ImageIndex: index));
        }

        var options = new DecodeOptions(12, 4.5, Deterministic: false);
        var host = await HostDecodeLoop.DecodeAsync(rows, options, Model.LogitsAsync);
        var device = Model.Decode(rows, options);

        for (var r = 0; r < rows.Count; r++)
        {
            Assert.Equal(host[r], device[r]);
            for (var p = 0; p < 256; p++)
            {
                if (rows[r].InitialTokens[p] != MageTokens.MaskId)
                {
                    Assert.Equal(rows[r].InitialTokens[p], device[r][p]);
                }
            }
        }
    }

    [Fact]
    public void A_non_finite_logit_at_an_unknown_position_fails_naming_the_row()
    {
        var fake = new FakeLogitsModel(seed: 1, coarse: false);
        var rows = new[]
        {
            HostDecodeLoopTests.MakeRow(10, seed: 1, imageIndex: 0, layoutSeed: 1),
            HostDecodeLoopTests.MakeRow(10, seed: 1, imageIndex: 1, layoutSeed: 2),
        };
        var unknownOfRowOne = Array.IndexOf(rows[1].InitialTokens, MageTokens.MaskId);

        var error = Assert.Throws<InvalidOperationException>(() => Model.Decode(
            rows, new DecodeOptions(4, 4.5, false), FakeOnDevice(fake, poison: (1, unknownOfRowOne)), null, CancellationToken.None));
        Assert.Contains("row 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("non-finite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_non_finite_logit_at_a_known_position_is_ignored_like_the_host_does()
    {
        var fake = new FakeLogitsModel(seed: 1, coarse: false);
        var row = HostDecodeLoopTests.MakeRow(10, seed: 1, imageIndex: 0, layoutSeed: 1);
        var known = Array.FindIndex(row.InitialTokens, id => id != MageTokens.MaskId);
        var options = new DecodeOptions(4, 4.5, false);

        var result = Model.Decode([row], options, FakeOnDevice(fake, poison: (0, known)), null, CancellationToken.None);

        Assert.Equal(ReferenceDecoder.Decode(row, options, fake), result[0]);
    }

    [Fact]
    public void Rows_without_unknown_positions_never_reach_the_model()
    {
        var row = HostDecodeLoopTests.MakeRow(0, seed: 1, imageIndex: 0, layoutSeed: 1);
        var calls = 0;
        var result = Model.Decode([row], new DecodeOptions(4, 4.5, false), (_, _, _) => throw new InvalidOperationException($"called {++calls}"), null, CancellationToken.None);
        Assert.Equal(row.InitialTokens, result[0]);
        Assert.NotSame(row.InitialTokens, result[0]);
    }

    [Fact]
    public void Cancelling_between_steps_stops_the_decode_and_reports_progress_until_then()
    {
        using var cancellation = new CancellationTokenSource();
        var reported = new List<int>();
        var progress = new SynchronousProgress<int>(step =>
        {
            reported.Add(step);
            if (step == 2)
            {
                cancellation.Cancel();
            }
        });
        var rows = new[] { new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, 256).ToArray(), 1, 0) };

        Assert.ThrowsAny<OperationCanceledException>(() => Model.Decode(rows, new DecodeOptions(8, 4.5, false), progress, cancellation.Token));
        Assert.Equal([1, 2], reported);
    }

    [Fact]
    public void Cancelling_during_a_step_terminates_the_sampler_run_and_reports_cancellation()
    {
        using var cancellation = new CancellationTokenSource();
        var fake = new FakeLogitsModel(seed: 2, coarse: false);
        var logits = FakeOnDevice(fake);
        var calls = 0;
        DeviceLogitsFunction cancelling = (ids, device, runOptions) =>
        {
            if (++calls == 2)
            {
                // The sampler graph of this step then runs with the terminate flag set.
                cancellation.Cancel();
                Assert.True(runOptions.Terminate);
            }

            return logits(ids, device, runOptions);
        };
        var rows = new[] { HostDecodeLoopTests.MakeRow(40, seed: 1, imageIndex: 0, layoutSeed: 1) };

        var error = Assert.ThrowsAny<OperationCanceledException>(() => Model.Decode(rows, new DecodeOptions(6, 4.5, false), cancelling, null, cancellation.Token));
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.Equal(2, calls);
    }

    [Fact]
    public void Invalid_rows_are_rejected_before_any_graph_runs()
    {
        var row = new DecodeRow(new long[255], 1, 0);
        Assert.Throws<InvalidRequestException>(() => Model.Decode([row], new DecodeOptions(4, 4.5, false)));
        Assert.Throws<InvalidRequestException>(() => Model.Decode([new DecodeRow(new long[256], 1, 0)], new DecodeOptions(0, 4.5, false)));
    }

    /// <summary>Stand-in logits in host memory (the CPU provider's device), computed from the ids the sampler left there.</summary>
    private static DeviceLogitsFunction FakeOnDevice(FakeLogitsModel fake, (int Row, int Position)? poison = null) =>
        (ids, _, _) =>
        {
            var values = ids.GetTensorDataAsSpan<long>().ToArray();
            var rows = values.Length / MageTokens.SequenceLength;
            var logits = new float[rows * MageTokens.Count * MageTokens.CodebookSize];
            fake.Function(values, rows, logits, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            if (poison is { } at)
            {
                logits[(((at.Row * MageTokens.Count) + at.Position) * MageTokens.CodebookSize) + 5] = float.NaN;
            }

            var value = OrtValue.CreateTensorValueFromMemory(logits, [rows, MageTokens.Count, MageTokens.CodebookSize]);
            return (value, value);
        };
}
