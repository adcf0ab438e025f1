using Azure.Core;
using Azure.Core.Pipeline;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>
/// A storage-client policy that kills the call making one chosen request, before the request is
/// sent: armed with a test on the request, it throws <see cref="CrashException"/> the first time
/// the test holds, then lets every request through again. Added per call (ahead of the retry
/// policy), so the crash reaches the service as a process dying there would: nothing after it runs.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class CrashPoint : HttpPipelinePolicy
{
    private Func<HttpMessage, bool>? armed;

    /// <summary>Crashes the next request for which <paramref name="when"/> holds.</summary>
    public void Arm(Func<HttpMessage, bool> when) => Volatile.Write(ref armed, when);

    /// <summary>A request that writes (PUT) a blob whose path ends with <paramref name="suffix"/>, or holds <paramref name="part"/>.</summary>
    public static Func<HttpMessage, bool> Put(string? suffix = null, string? part = null) => m =>
        m.Request.Method == RequestMethod.Put
        && (suffix is null || m.Request.Uri.Path.EndsWith(suffix, StringComparison.Ordinal))
        && (part is null || m.Request.Uri.Path.Contains(part, StringComparison.Ordinal));

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Check(HttpMessage message)
    {
        if (Volatile.Read(ref armed) is { } when && when(message) && Interlocked.CompareExchange(ref armed, null, when) == when)
        {
            throw new CrashException($"crashed before {message.Request.Method} {message.Request.Uri.Path}");
        }
    }
}
