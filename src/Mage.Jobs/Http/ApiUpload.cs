using System.Security.Cryptography;

namespace Mage.Jobs.Http;

/// <summary>A file an API request brings, to be stored create-only in the uploads container under <paramref name="Name"/> (<see cref="Storage.ResultsLayout.ApiUpload"/>).</summary>
/// <param name="Name">The blob name.</param>
/// <param name="Bytes">The file as sent.</param>
/// <param name="ContentType">Its MIME type, from its header.</param>
internal sealed record ApiUpload(string Name, byte[] Bytes, string ContentType)
{
    /// <summary>The blob metadata that carries <see cref="Sha256"/>: a retry recognises the blob its earlier try stored.</summary>
    public const string HashMetadata = "sha256";

    /// <summary>The SHA-256 of <see cref="Bytes"/>, lower-case hex.</summary>
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(Bytes));
}
