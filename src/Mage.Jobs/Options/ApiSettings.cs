namespace Mage.Jobs.Options;

/// <summary>The HTTP API's settings (configuration section <c>Mage:Api</c>). See docs/operations.md and docs/api.md, Callers.</summary>
public sealed class ApiSettings
{
    public const string Section = "Mage:Api";

    /// <summary>
    /// Whether the Container Apps authentication headers (<see cref="Http.ApiCaller.PrincipalIdHeader"/>,
    /// <see cref="Http.ApiCaller.PrincipalIdpHeader"/>) name the caller. Off by default: only the platform
    /// strips these headers from outside requests, and only when authentication is in front of the app;
    /// without it anyone can send them, so they are ignored and every caller is a function-key holder.
    /// </summary>
    public bool TrustAuthHeaders { get; set; }
}
