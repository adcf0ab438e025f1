namespace Mage.Jobs.Requests;

/// <summary>What <see cref="RequestLifecycle"/> reads of every request message: its id, its output and its kind.</summary>
internal interface IRequestMessage
{
    /// <summary>The caller's id for the request; its folder's name.</summary>
    string? RequestId { get; }

    /// <summary>Where the results go; the channel's defaults when null.</summary>
    OutputRequest? Output { get; }

    /// <summary>What the message asks for; null when it names no kind.</summary>
    RequestKind? Kind { get; }

    /// <summary>The blobs the request reads, with the field that names each (null ones left out).</summary>
    IEnumerable<(BlobRef Blob, string Field)> Reads { get; }
}
