using System.Net;

namespace Mage.Jobs.BulkJobs;

/// <summary>An HTTP answer: status code and a JSON-serializable body.</summary>
public sealed record ApiResult(HttpStatusCode Status, object Body, string? Location = null);
