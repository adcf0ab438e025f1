using System.Net;
using System.Net.Sockets;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs.Models;

namespace Mage.Jobs.Storage;

/// <summary>
/// Sorts the exceptions a storage call can end with. The Azure SDK reports a call that got no
/// answer (refused connection, reset, timeout) as <see cref="RequestFailedException"/> with status
/// 0, or, once its retry policy gives up, as an <see cref="AggregateException"/> of those
/// ("Retry failed after 6 tries"); an answer that is an error is a
/// <see cref="RequestFailedException"/> with the HTTP status. The one owner of that sorting (which
/// answer means what: missing, already there, a lost condition, unavailable): the job services, the
/// start-up check, <c>mage worker</c> and the CLI use it; <see cref="StorageErrors"/> words them.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
public static class StorageFailures
{
    /// <summary>
    /// True when storage did not answer, or answered that it cannot serve now (5xx, 408, 429):
    /// trying again later may work. An <see cref="OperationCanceledException"/> counts (the SDK's
    /// network timeout) unless <paramref name="ours"/> was cancelled.
    /// </summary>
    public static bool IsUnavailable(Exception exception, CancellationToken ours = default) => exception switch
    {
        RequestFailedException e => e.Status is 0 or 408 or 429 or >= 500,
        AggregateException e => e.InnerExceptions.Count > 0 && e.InnerExceptions.All(inner => IsUnavailable(inner, ours)),
        OperationCanceledException => !ours.IsCancellationRequested,
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// True for <see cref="IsUnavailable"/>, for any error answer from storage (403, 404, 409...)
    /// and for a credential that cannot get a token for it; false for bugs.
    /// </summary>
    public static bool IsStorageFailure(Exception exception, CancellationToken ours = default) =>
        IsUnavailable(exception, ours) || exception switch
        {
            RequestFailedException or AuthenticationFailedException => true,
            AggregateException e => e.InnerExceptions.Count > 0 && e.InnerExceptions.All(inner => IsStorageFailure(inner, ours)),
            _ => false,
        };

    /// <summary>
    /// One line for a log or an error message: the status and error code when storage answered,
    /// the last try's reason when the SDK gave up retrying.
    /// </summary>
    public static string Describe(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: > 0 } e => $"no answer after {e.InnerExceptions.Count} tries, last: {Describe(e.InnerExceptions[^1])}",
        RequestFailedException { Status: 0 } e => FirstLine(e.Message),
        RequestFailedException e => $"{e.Status} {e.ErrorCode}: {FirstLine(e.Message)}",
        _ => FirstLine(exception.Message),
    };

    /// <summary>The first line of an exception message (the SDK appends headers and content after it), trimmed.</summary>
    public static string FirstLine(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var line = message.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        return (end < 0 ? line : line[..end]).TrimEnd().ToString();
    }

    /// <summary>
    /// Storage refused the request itself (any 4xx but 408 and 429: a bad name such as 400
    /// InvalidUri or OutOfRangeInput, 403 AuthorizationPermissionMismatch, 404, 409 BlobArchived,
    /// 412): sending it again gets the same answer, so it is the caller's error, never a retry.
    /// </summary>
    internal static bool IsRefused(RequestFailedException e) => e.Status is >= 400 and < 500 and not (408 or 429);

    /// <summary>Storage answered 404: the blob, container or queue is not there.</summary>
    internal static bool IsNotFound(RequestFailedException e) => e.Status == (int)HttpStatusCode.NotFound;

    /// <summary>Storage answered that the container itself is not there.</summary>
    internal static bool IsContainerNotFound(RequestFailedException e) =>
        e.Status == (int)HttpStatusCode.NotFound && e.ErrorCode == BlobErrorCode.ContainerNotFound;

    /// <summary>A create-only write found the blob there (409, or BlobAlreadyExists).</summary>
    internal static bool IsAlreadyExists(RequestFailedException e) =>
        e.Status == (int)HttpStatusCode.Conflict || e.ErrorCode == BlobErrorCode.BlobAlreadyExists;

    /// <summary>A conditional write lost: the ETag moved (412) or the blob already exists.</summary>
    internal static bool IsConditionFailed(RequestFailedException e) =>
        e.Status == (int)HttpStatusCode.PreconditionFailed || IsAlreadyExists(e);
}
