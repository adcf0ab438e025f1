using System.Net;

namespace Mage.Jobs.Services;

/// <summary>An HTTP answer: status code and a JSON-serializable body.</summary>
public sealed record ApiResult(HttpStatusCode Status, object Body, string? Location = null);
