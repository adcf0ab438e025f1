namespace Mage.Jobs.Storage;

/// <summary>A blob a request names does not exist.</summary>
internal sealed class MissingBlobException(string message) : Exception(message);
