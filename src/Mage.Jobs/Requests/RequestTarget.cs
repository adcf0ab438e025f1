namespace Mage.Jobs.Requests;

/// <summary>Where a request's outputs go, once validated.</summary>
internal sealed record RequestTarget(string RequestId, string Container, string Folder);
