using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Storage;

/// <summary>
/// Rules for names that arrive from outside (blob names, container names, prefixes, ids) before
/// they become parts of storage paths. Stateless and thread-safe.
/// </summary>
public static partial class BlobNames
{
    /// <summary>Azure's limit on a blob's name, in characters.</summary>
    internal const int MaxPathLength = 1024;

    /// <summary>Azure's limit on the '/'-separated segments of a blob's name.</summary>
    internal const int MaxPathSegments = 254;

    /// <summary>
    /// Returns null when <paramref name="name"/> is an acceptable blob name, else why not. The
    /// name is refused as <see cref="ErrorReason.NameTooLong"/> when it is longer than
    /// <paramref name="maxLength"/>, or when a path built from it (<paramref name="suffix"/>, from
    /// <see cref="ResultsLayout"/>) would be longer than <see cref="MaxPathLength"/> characters or
    /// have more than <see cref="MaxPathSegments"/> segments; else as <see cref="ErrorReason.InvalidName"/>.
    /// </summary>
    internal static NameProblem? CheckBlobName(string? name, int maxLength, PathSuffix suffix = default)
    {
        if (string.IsNullOrEmpty(name))
        {
            return Invalid("The blob name is empty.");
        }

        var maxChars = Math.Min(maxLength, MaxPathLength - suffix.Characters);
        if (name.Length > maxChars)
        {
            return TooLong($"The blob name is {name.Length} characters long; at most {maxChars} are accepted{Why(maxChars < maxLength, MaxPathLength, "characters", suffix.Characters)}.");
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return Invalid($"The blob name contains the control character U+{(int)c:X4}.");
            }
        }

        if (name.Contains('\\', StringComparison.Ordinal))
        {
            return Invalid("The blob name contains a backslash.");
        }

        if (name.StartsWith('/') || name.EndsWith('/'))
        {
            return Invalid("The blob name starts or ends with '/'.");
        }

        var segments = name.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                return Invalid($"The blob name '{name}' has an empty, '.' or '..' path segment.");
            }
        }

        var maxSegments = MaxPathSegments - suffix.Segments;
        return segments.Length > maxSegments
            ? TooLong($"The blob name has {segments.Length} '/'-separated segments; at most {maxSegments} are accepted{Why(true, MaxPathSegments, "segments", suffix.Segments)}.")
            : null;
    }

    /// <summary>
    /// Returns null when <paramref name="prefix"/> is an acceptable folder prefix (empty allowed),
    /// else why not: <see cref="CheckBlobName"/> of the prefix without its trailing '/', whose paths
    /// add <paramref name="suffix"/> to it.
    /// </summary>
    internal static NameProblem? CheckPrefix(string? prefix, int maxLength, PathSuffix suffix = default)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return null;
        }

        var trimmed = prefix.EndsWith('/') ? prefix[..^1] : prefix;
        return CheckBlobName(trimmed, maxLength, suffix) is { } problem ? problem with { Message = $"Prefix '{prefix}': {problem.Message}" } : null;
    }

    /// <summary>Azure container names: 3-63 lower-case letters, digits and single hyphens.</summary>
    public static bool IsContainerName(string? name) => name is not null && ContainerRegex().IsMatch(name);

    /// <summary>What <see cref="IsId"/> accepts, in words, for every refusal of an id.</summary>
    public const string IdRule = "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'";

    /// <summary>The longest job or request id, in characters (<see cref="IdRule"/>).</summary>
    internal const int MaxIdLength = 64;

    /// <summary>Job and request ids: 1-64 (<see cref="MaxIdLength"/>) of <c>[A-Za-z0-9._-]</c>, not "." or "..".</summary>
    public static bool IsId(string? id) => id is not null and not "." and not ".." && IdRegex().IsMatch(id);

    /// <summary>A short, path-safe digest of a string (hex SHA-256, first 16 characters).</summary>
    public static string ShortHash(string value) => LongHash(value)[..16];

    /// <summary>A path-safe digest of a string where a collision must never happen (hex SHA-256, 64 characters).</summary>
    public static string LongHash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>A prefix with exactly one trailing '/' (or empty).</summary>
    public static string AsFolder(string? prefix) =>
        string.IsNullOrEmpty(prefix) ? "" : prefix.TrimEnd('/') + "/";

    private static NameProblem Invalid(string message) => new(ErrorReason.InvalidName, message);

    private static NameProblem TooLong(string message) => new(ErrorReason.NameTooLong, message);

    /// <summary>Why a limit is lower than Azure's, or empty when it is the setting's.</summary>
    private static string Why(bool azure, int azureLimit, string unit, int added) =>
        !azure ? ""
        : added == 0 ? " (Azure's limit)"
        : $" (Azure allows {azureLimit} {unit} in a blob name, and the service keeps {added} of them for the paths it builds from this one)";

    // \z, not $: $ also matches before a final newline, which would let "j1\n" through into blob paths.
    [GeneratedRegex(@"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerRegex();

    // {1,64}: MaxIdLength (an attribute's argument cannot format a constant).
    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdRegex();
}
