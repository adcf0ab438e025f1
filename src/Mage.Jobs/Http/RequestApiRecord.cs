namespace Mage.Jobs.Http;

/// <summary>
/// Who submitted an edit or generation over HTTP (<see cref="Storage.ResultsLayout.ApiRequest"/>, in the jobs
/// container, created once): only that caller reads its status and files.
/// </summary>
/// <param name="RequestId">The request.</param>
/// <param name="Caller"><see cref="ApiCaller.Name"/>.</param>
/// <param name="Kind">The route's path: <c>edits</c> or <c>generations</c>.</param>
/// <param name="MessageHash">The hash of the message enqueued (<c>MessageJson.Hash</c>): where a refusal of it is recorded, and whether a second submit is the same request.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="UploadsHash">For an edit sent as <c>multipart/form-data</c>, the hash of the files it brought (their names and SHA-256s): with <paramref name="MessageHash"/>, whether a second submit is the same request. Null otherwise.</param>
internal sealed record RequestApiRecord(string RequestId, string Caller, string Kind, string MessageHash, DateTimeOffset CreatedAt, string? UploadsHash = null);
