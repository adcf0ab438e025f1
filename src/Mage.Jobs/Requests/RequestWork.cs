using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Numpy;
using Mage.Jobs.Coordination;
using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Mage.Jobs.Requests;

/// <summary>
/// A request this delivery has read, validated and claimed: its message, where its files go, and
/// the steps that finish it (data files, then result.json or error.json and the channel's event).
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
/// <remarks>Owned by one <see cref="RequestLifecycle.RunAsync"/> call, which frees the claim.</remarks>
internal sealed class RequestWork<T>(RequestLifecycle lifecycle, RequestChannel channel, T request, RequestTarget target, ClaimedWork work)
    where T : class, IRequestMessage
{
    /// <summary>The message.</summary>
    public T Request => request;

    /// <summary>Where its records and files go.</summary>
    public RequestTarget Target => target;

    /// <summary>The engine's step reports, noted on the request's claim for <c>GET /api/{route}/{id}</c> (<see cref="ClaimedWork.NoteProgress"/>).</summary>
    public IProgress<StepProgress> Progress { get; } = new ClaimProgress(work);

    /// <summary>Writes image <paramref name="index"/> as PNG and returns its container/name path.</summary>
    public Task<string> WritePngAsync(int index, Image<Rgb24> image, CancellationToken cancellationToken) =>
        work.WriteAsync(ResultsLayout.RequestImage(target.Folder, index), BinaryData.FromBytes(PngEncoding.Encode(image)), "image/png", cancellationToken);

    /// <summary>Writes token grids (<see cref="TokenFile"/>: int64 [n, 256]) and returns the container/name path.</summary>
    public Task<string> WriteTokensAsync(IReadOnlyList<long[]> tokens, CancellationToken cancellationToken) =>
        work.WriteAsync(ResultsLayout.Tokens(target.Folder), BinaryData.FromBytes(TokenFile.ToBytes(tokens)), "application/octet-stream", cancellationToken);

    /// <summary>Commits result.json and publishes the channel's completion event.</summary>
    public Task<RequestOutcome> CompleteAsync(RequestRecord record, CancellationToken cancellationToken) =>
        lifecycle.CompleteAsync(channel, target, work, record, cancellationToken);

    /// <summary>Commits error.json and publishes the channel's failure event.</summary>
    public Task<RequestOutcome> FailAsync(ErrorReason reason, string error, CancellationToken cancellationToken) =>
        lifecycle.FailAsync(channel, target, channel.KindOf(request), reason, error, work, cancellationToken);

    /// <summary>Passes each report on synchronously (the claim drops the ones that come too soon), unlike <see cref="Progress{T}"/>, which posts to a context.</summary>
    private sealed class ClaimProgress(ClaimedWork work) : IProgress<StepProgress>
    {
        public void Report(StepProgress value) => work.NoteProgress(value.Done, value.Total);
    }
}
