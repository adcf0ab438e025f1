using Mage.Inference.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Tests.Runtime;

/// <summary>The one bridge from a <see cref="CancellationToken"/> to ONNX Runtime's terminate flag and back.</summary>
public sealed class CancellableRunTests
{
    [Fact]
    public void The_terminate_flag_follows_the_token_before_and_during_a_call()
    {
        using var before = new CancellationTokenSource();
        before.Cancel();
        using (var run = new CancellableRun(before.Token))
        {
            Assert.True(run.Options.Terminate);
        }

        using var later = new CancellationTokenSource();
        using var pending = new CancellableRun(later.Token);
        Assert.False(pending.Options.Terminate);
        later.Cancel();
        Assert.True(pending.Options.Terminate);
    }

    [Fact]
    public void A_failed_run_is_cancellation_only_once_the_token_has_fired()
    {
        using var session = new InferenceSession(MageModel.SamplerGraph.Value);

        // A run without its inputs fails inside ONNX Runtime, like a terminated one.
        void Fail(RunOptions options)
        {
            using var outputs = session.Run(options, Array.Empty<string>(), Array.Empty<OrtValue>(), ["next_ids"]);
        }

        using (var live = new CancellableRun(CancellationToken.None))
        {
            Assert.Throws<OnnxRuntimeException>(() => live.Execute(Fail));
        }

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using var cancelled = new CancellableRun(cts.Token);
        var error = Assert.Throws<OperationCanceledException>(() => cancelled.Execute(Fail));
        Assert.Equal(cts.Token, error.CancellationToken);
    }
}
