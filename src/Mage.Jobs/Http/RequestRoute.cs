using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Http;

/// <summary>
/// One family of HTTP requests (<c>/api/edits</c>, <c>/api/generations</c>): its path, the queue and
/// request channel behind it, and how a body is read and checked with the queue service's own rules.
/// </summary>
/// <param name="Queue">The work queue its messages go to.</param>
/// <param name="Path">The path segment after <c>/api/</c>.</param>
/// <param name="Noun">What one request is called in answers.</param>
/// <param name="Channel">The lifecycle's channel: default prefix and kind.</param>
/// <param name="Read">Deserializes a body strictly (<see cref="MessageJson.Deserialize"/>); null and the error when it cannot.</param>
/// <param name="Check">The lifecycle's checks of a readable request (<see cref="RequestLifecycle.Check"/> with the service's validation).</param>
/// <param name="FieldIn">The message member a refusal names first (<see cref="ApiProblem.LeadingField"/>), or null.</param>
internal sealed record RequestRoute(
    WorkQueue Queue,
    string Path,
    string Noun,
    RequestChannel Channel,
    Func<string, (IRequestMessage? Request, string? Error)> Read,
    Func<IRequestMessage, RequestLifecycle, LimitSettings, (ErrorReason Reason, string Message)?> Check,
    Func<string, string?> FieldIn)
{
    public static readonly RequestRoute Edits = new(
        WorkQueue.Edits, "edits", "edit", RequestChannel.Edits, ReadAs<EditMessage>,
        (request, lifecycle, limits) => lifecycle.Check((EditMessage)request, r => EditService.Validate(r, limits)),
        ApiProblem.LeadingField<EditMessage>);

    public static readonly RequestRoute Generations = new(
        WorkQueue.Generate, "generations", "generation", RequestChannel.Generations, ReadAs<GenerateMessage>,
        (request, lifecycle, limits) => lifecycle.Check((GenerateMessage)request, r => GenerateService.Validate(r, limits)),
        ApiProblem.LeadingField<GenerateMessage>);

    /// <summary>The route of <paramref name="queue"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Only the edits and generate queues take HTTP requests.</exception>
    public static RequestRoute Of(WorkQueue queue) => queue switch
    {
        WorkQueue.Edits => Edits,
        WorkQueue.Generate => Generations,
        _ => throw new ArgumentOutOfRangeException(nameof(queue), queue, "Only the edits and generate queues take HTTP requests."),
    };

    private static (IRequestMessage? Request, string? Error) ReadAs<T>(string body)
        where T : class, IRequestMessage =>
        (MessageJson.Deserialize<T>(body, "body", out var error), error);
}
