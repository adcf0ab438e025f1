using Mage.Jobs.Events;

namespace Mage.Jobs.Requests;

/// <summary>
/// A family of request messages that share a queue: its default output prefix, the kind recorded
/// when a message cannot be read, and its event types.
/// </summary>
/// <param name="DefaultPrefix">The output prefix when a message names none.</param>
/// <param name="Kind">The kind of every message of the channel, or null when each message names its own.</param>
/// <param name="CompletedEvent">The event type of a completed request.</param>
/// <param name="FailedEvent">The event type of a failed request.</param>
internal sealed record RequestChannel(string DefaultPrefix, RequestKind? Kind, string CompletedEvent, string FailedEvent)
{
    /// <summary>Inpainting, outpainting and uncropping (<see cref="EditService"/>).</summary>
    public static readonly RequestChannel Edits = new(EditService.DefaultPrefix, null, MageEventTypes.EditCompleted, MageEventTypes.EditFailed);

    /// <summary>Unconditional generation (<see cref="GenerateService"/>).</summary>
    public static readonly RequestChannel Generations = new(GenerateService.DefaultPrefix, RequestKind.Generate, MageEventTypes.GenerateCompleted, MageEventTypes.GenerateFailed);

    /// <summary>The kind to record for <paramref name="request"/>: the channel's, else the message's own.</summary>
    public RequestKind? KindOf(IRequestMessage? request) => Kind ?? request?.Kind;
}
