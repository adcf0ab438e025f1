namespace Mage.Jobs.Http;

/// <summary>Looks up HTTP request headers as the Functions worker hands them over (names in any case). Stateless and thread-safe.</summary>
internal static class RequestHeaders
{
    /// <summary>Every value of header <paramref name="name"/>, over all its occurrences.</summary>
    public static List<string> Values(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string name) =>
        headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).SelectMany(h => h.Value).ToList();
}
