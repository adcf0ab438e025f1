using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Mage.Jobs.Storage;

/// <summary>
/// Rules for names that arrive from outside (blob names, container names, prefixes, ids) before
/// they become parts of storage paths. Stateless and thread-safe.
/// </summary>
public static partial class BlobNames
{
    /// <summary>Returns null when <paramref name="name"/> is an acceptable blob name, else why not.</summary>
    public static string? CheckBlobName(string? name, int maxLength)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "The blob name is empty.";
        }

        if (name.Length > maxLength)
        {
            return $"The blob name is {name.Length} characters long; at most {maxLength} are accepted.";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return $"The blob name contains the control character U+{(int)c:X4}.";
            }
        }

        if (name.Contains('\\', StringComparison.Ordinal))
        {
            return "The blob name contains a backslash.";
        }

        if (name.StartsWith('/') || name.EndsWith('/'))
        {
            return "The blob name starts or ends with '/'.";
        }

        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                return $"The blob name '{name}' has an empty, '.' or '..' path segment.";
            }
        }

        return null;
    }

    /// <summary>Returns null when <paramref name="prefix"/> is an acceptable folder prefix (empty allowed), else why not.</summary>
    public static string? CheckPrefix(string? prefix, int maxLength)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return null;
        }

        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        var problem = CheckBlobName(trimmed, maxLength);
        return problem is null ? null : $"Prefix '{prefix}': {problem}";
    }

    /// <summary>Azure container names: 3-63 lower-case letters, digits and single hyphens.</summary>
    public static bool IsContainerName(string? name) => name is not null && ContainerRegex().IsMatch(name);

    /// <summary>What <see cref="IsId"/> accepts, in words, for every refusal of an id.</summary>
    public const string IdRule = "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'";

    /// <summary>Job and request ids: 1-64 of <c>[A-Za-z0-9._-]</c>, not "." or "..".</summary>
    public static bool IsId(string? id) => id is not null and not "." and not ".." && IdRegex().IsMatch(id);

    /// <summary>A short, path-safe digest of a string (hex SHA-256, first 16 characters).</summary>
    public static string ShortHash(string value) => LongHash(value)[..16];

    /// <summary>A path-safe digest of a string where a collision must never happen (hex SHA-256, 64 characters).</summary>
    public static string LongHash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>A prefix with exactly one trailing '/' (or empty).</summary>
    public static string AsFolder(string? prefix) =>
        string.IsNullOrEmpty(prefix) ? "" : prefix.TrimEnd('/') + "/";

    // \z, not $: $ also matches before a final newline, which would let "j1\n" through into blob paths.
    [GeneratedRegex(@"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerRegex();

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();
}
