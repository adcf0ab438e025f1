namespace Mage.Jobs.Requests;

/// <summary>A blob a request names does not exist.</summary>
internal sealed class MissingBlobException(string message) : Exception(message);
