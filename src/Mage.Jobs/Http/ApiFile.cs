namespace Mage.Jobs.Http;

/// <summary>
/// A file an answer streams instead of a JSON body (<see cref="ApiResult.Body"/>): its bytes, its
/// content type and, when known, its length in bytes. <see cref="ApiResult.WriteBodyAsync"/> copies
/// <see cref="Content"/> and disposes it; an answer that is never written leaves it to the garbage collector.
/// </summary>
public sealed record ApiFile(Stream Content, string ContentType, long? Length);
