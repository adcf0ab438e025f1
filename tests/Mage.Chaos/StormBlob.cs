namespace Mage.Chaos;

/// <summary>The last version the upload storm left of one blob: its ETag (as the services read it) and whether it is a corrupt image.</summary>
internal sealed record StormBlob(string Name, string Etag, bool Corrupt);
