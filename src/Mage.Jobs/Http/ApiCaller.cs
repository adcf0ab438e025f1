namespace Mage.Jobs.Http;

/// <summary>
/// Who calls the job API, and which jobs that caller may see. A job records its caller's
/// <see cref="Name"/> (the job message's <c>caller</c>, <see cref="BulkJobs.JobStatus.Caller"/>):
/// <list type="bullet">
/// <item><see cref="Key"/> (<c>key</c>): a function-key holder; sees jobs recorded as <c>key</c> and jobs that record no caller.</item>
/// <item>a Microsoft Entra principal (<c>aad:{object id}</c>), named by the Container Apps authentication
/// headers when <see cref="Options.ApiSettings.TrustAuthHeaders"/> is on; sees only its own jobs.</item>
/// <item><see cref="Operator"/>: someone holding the storage account's rights (<c>mage job</c>); records no
/// caller, as a message sent straight to the queue does, and sees every job. Never named by headers.</item>
/// </list>
/// Immutable and thread-safe. docs/api.md, Callers, is the same rules for callers.
/// </summary>
public sealed class ApiCaller
{
    /// <summary>The principal's id, set by Container Apps authentication (for Entra ID: the object id).</summary>
    public const string PrincipalIdHeader = "X-MS-CLIENT-PRINCIPAL-ID";

    /// <summary>The identity provider that authenticated the principal (<c>aad</c> for Entra ID).</summary>
    public const string PrincipalIdpHeader = "X-MS-CLIENT-PRINCIPAL-IDP";

    private const string KeyName = "key";
    private const string EntraIdp = "aad";
    private const string EntraPrefix = EntraIdp + ":";

    private ApiCaller(string? name) => Name = name;

    /// <summary>A function-key holder.</summary>
    public static ApiCaller Key { get; } = new(KeyName);

    /// <summary>Someone holding the storage account's rights: records no caller and sees every job.</summary>
    public static ApiCaller Operator { get; } = new(null);

    /// <summary>What a job records for this caller: <c>key</c>, <c>aad:{object id}</c> (lower case), or null for <see cref="Operator"/>.</summary>
    public string? Name { get; }

    /// <summary>A Microsoft Entra principal by its object id.</summary>
    public static ApiCaller Entra(Guid objectId) => new(EntraPrefix + objectId.ToString("D"));

    /// <summary>Whether this caller may see (read, or learn of) a job that recorded <paramref name="recorded"/>.</summary>
    public bool MaySee(string? recorded) => Name switch
    {
        null => true,
        KeyName => recorded is null || recorded == KeyName,
        _ => recorded == Name,
    };

    public override string ToString() => Name ?? "operator";

    /// <summary>
    /// The caller the request headers name. With <paramref name="trustAuthHeaders"/> off the headers
    /// are ignored (anyone can send them) and the caller is <see cref="Key"/>; on, a request without
    /// <see cref="PrincipalIdHeader"/> and <see cref="PrincipalIdpHeader"/> is <see cref="Key"/>, and one
    /// with them must name an Entra ID principal by its object id, else null and <paramref name="problem"/>
    /// says which header is wrong (never echoing its value).
    /// </summary>
    /// <param name="headers">The request headers, names compared ignoring case.</param>
    /// <param name="trustAuthHeaders"><see cref="Options.ApiSettings.TrustAuthHeaders"/>.</param>
    /// <param name="problem">Why the headers name no caller, or null.</param>
    public static ApiCaller? FromHeaders(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, bool trustAuthHeaders, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(headers);
        problem = null;
        if (!trustAuthHeaders)
        {
            return Key;
        }

        var id = Values(headers, PrincipalIdHeader);
        var idp = Values(headers, PrincipalIdpHeader);
        if (id.Count == 0 && idp.Count == 0)
        {
            return Key;
        }

        if (idp.Count != 1 || !string.Equals(idp[0].Trim(), EntraIdp, StringComparison.OrdinalIgnoreCase))
        {
            problem = $"{PrincipalIdpHeader} must be '{EntraIdp}' (Microsoft Entra ID), once.";
            return null;
        }

        if (id.Count != 1 || !Guid.TryParseExact(id[0].Trim(), "D", out var objectId))
        {
            problem = $"{PrincipalIdHeader} must be one Microsoft Entra object id (a GUID such as 00000000-0000-0000-0000-000000000000).";
            return null;
        }

        return Entra(objectId);
    }

    /// <summary>
    /// Why <paramref name="recorded"/> cannot be a job's recorded caller (<c>caller</c> in a job
    /// message), or null when it can: absent, <c>key</c>, or <c>aad:</c> and a lower-case object id.
    /// </summary>
    internal static string? CheckRecorded(string? recorded) =>
        recorded is null || recorded == KeyName || IsEntraName(recorded)
            ? null
            : $"caller '{recorded}' must be '{KeyName}' or '{EntraPrefix}' and a lower-case object id (a GUID); the HTTP API sets it, queue senders may leave it out.";

    private static bool IsEntraName(string name) =>
        name.StartsWith(EntraPrefix, StringComparison.Ordinal) && Guid.TryParseExact(name.AsSpan(EntraPrefix.Length), "D", out var objectId) &&
        name == Entra(objectId).Name;

    /// <summary>Every value of header <paramref name="name"/>; a repeated header or a comma-separated list counts each value.</summary>
    private static List<string> Values(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, string name) =>
        RequestHeaders.Values(headers, name).SelectMany(v => v.Split(',')).ToList();
}
