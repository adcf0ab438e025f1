using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Runtime;

/// <summary>
/// The <see cref="RunOptions"/> of one model call, bridged to a <see cref="CancellationToken"/>:
/// when the token fires, <see cref="RunOptions.Terminate"/> is set, so a graph in progress stops
/// at its next node, and <see cref="Execute"/> reports that as cancellation.
/// </summary>
/// <remarks>
/// Owns the options and the token registration; dispose it after the last run that uses the
/// options. One per call: the options are shared by every graph of that call, never between calls.
/// </remarks>
internal sealed class CancellableRun : IDisposable
{
    private readonly CancellationToken token;
    private readonly CancellationTokenRegistration registration;

    public CancellableRun(CancellationToken cancellationToken)
    {
        Options = new RunOptions();
        registration = cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, Options);
        token = cancellationToken;
    }

    /// <summary>The options to pass to every ONNX Runtime run of this call.</summary>
    public RunOptions Options { get; }

    /// <summary>
    /// Runs <paramref name="body"/> with <see cref="Options"/>. ONNX Runtime reports a terminated
    /// run as an <see cref="OnnxRuntimeException"/>; once the token has fired, that becomes an
    /// <see cref="OperationCanceledException"/> for the token.
    /// </summary>
    public void Execute(Action<RunOptions> body)
    {
        try
        {
            body(Options);
        }
        catch (OnnxRuntimeException) when (token.IsCancellationRequested)
        {
            throw new OperationCanceledException(token);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        registration.Dispose();
        Options.Dispose();
    }
}
