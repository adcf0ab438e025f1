namespace Mage.Jobs.Events;

/// <summary>An event to publish once its record is committed; <see cref="MageEvent.Create"/> gives it its id and time.</summary>
/// <param name="Type">One of <see cref="MageEventTypes"/>.</param>
/// <param name="Subject">What it is about, e.g. <c>uploads/cat.jpg</c> or <c>jobs/j1</c>.</param>
/// <param name="VersionKey">What distinguishes this occurrence from a repeat of the same: an etag, a job id, a folder.</param>
/// <param name="Data">The payload.</param>
internal sealed record MageEventDraft(string Type, string Subject, string VersionKey, MageEventData Data);
