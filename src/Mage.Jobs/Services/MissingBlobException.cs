namespace Mage.Jobs.Services;

/// <summary>A blob a request names does not exist.</summary>
internal sealed class MissingBlobException(string message) : Exception(message);
