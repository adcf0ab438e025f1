using Mage.Jobs.Http;

namespace Mage.Jobs.Tests.Http;

/// <summary>Who the request headers name (docs/api.md, Callers), and which jobs each caller sees.</summary>
public sealed class ApiCallerTests
{
    private const string ObjectId = "6F1C0D2E-3B4A-4C5D-9E8F-0A1B2C3D4E5F";

    [Fact]
    public void Without_trust_the_authentication_headers_are_ignored_even_garbage()
    {
        foreach (var headers in new[] { Entra(ObjectId), Headers(("X-MS-CLIENT-PRINCIPAL-ID", "<script>"), ("X-MS-CLIENT-PRINCIPAL-IDP", "github")) })
        {
            var caller = ApiCaller.FromHeaders(headers, trustAuthHeaders: false, out var problem);

            Assert.Same(ApiCaller.Key, caller);
            Assert.Null(problem);
        }
    }

    [Fact]
    public void With_trust_and_no_principal_the_caller_is_a_key_holder()
    {
        var caller = ApiCaller.FromHeaders(Headers(("x-functions-key", "k"), ("Content-Type", "application/json")), trustAuthHeaders: true, out var problem);

        Assert.Same(ApiCaller.Key, caller);
        Assert.Null(problem);
    }

    [Fact]
    public void With_trust_an_entra_principal_is_named_by_its_object_id_in_lower_case()
    {
        var caller = ApiCaller.FromHeaders(
            Headers(("x-ms-client-principal-id", " " + ObjectId), ("x-ms-client-principal-idp", "AAD"), ("X-MS-CLIENT-PRINCIPAL-NAME", "someone@example.com")),
            trustAuthHeaders: true,
            out var problem);

        Assert.Equal("aad:" + ObjectId.ToLowerInvariant(), caller!.Name);
        Assert.Null(problem);
    }

    public static TheoryData<string, (string Name, string Value)[]> Garbage => new()
    {
        { "X-MS-CLIENT-PRINCIPAL-ID", [("X-MS-CLIENT-PRINCIPAL-ID", "not-a-guid"), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad")] },
        { "X-MS-CLIENT-PRINCIPAL-ID", [("X-MS-CLIENT-PRINCIPAL-ID", ""), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad")] },
        { "X-MS-CLIENT-PRINCIPAL-ID", [("X-MS-CLIENT-PRINCIPAL-ID", ObjectId + "," + Guid.Empty), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad")] },
        { "X-MS-CLIENT-PRINCIPAL-ID", [("X-MS-CLIENT-PRINCIPAL-ID", ObjectId), ("X-MS-CLIENT-PRINCIPAL-ID", ObjectId), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad")] },
        { "X-MS-CLIENT-PRINCIPAL-ID", [("X-MS-CLIENT-PRINCIPAL-ID", "{" + ObjectId + "}"), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad")] },
        { "X-MS-CLIENT-PRINCIPAL-ID", [("X-MS-CLIENT-PRINCIPAL-IDP", "aad")] },
        { "X-MS-CLIENT-PRINCIPAL-IDP", [("X-MS-CLIENT-PRINCIPAL-ID", ObjectId)] },
        { "X-MS-CLIENT-PRINCIPAL-IDP", [("X-MS-CLIENT-PRINCIPAL-ID", ObjectId), ("X-MS-CLIENT-PRINCIPAL-IDP", "github")] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void With_trust_garbage_principal_headers_name_no_caller_and_the_problem_names_the_header_not_its_value(string header, (string Name, string Value)[] headers)
    {
        var caller = ApiCaller.FromHeaders(Headers(headers), trustAuthHeaders: true, out var problem);

        Assert.Null(caller);
        Assert.StartsWith(header + " must be", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-guid", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("github", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_holder_sees_key_jobs_and_jobs_sent_to_the_queue_a_principal_only_its_own_the_operator_all()
    {
        var a = ApiCaller.Entra(Guid.Parse(ObjectId));
        var b = ApiCaller.Entra(Guid.Empty);
        string?[] recorded = [null, "key", a.Name, b.Name];

        Assert.Equal([true, true, false, false], recorded.Select(ApiCaller.Key.MaySee));
        Assert.Equal([false, false, true, false], recorded.Select(a.MaySee));
        Assert.Equal([true, true, true, true], recorded.Select(ApiCaller.Operator.MaySee));
        Assert.Null(ApiCaller.Operator.Name);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("key", true)]
    [InlineData("aad:6f1c0d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f", true)]
    [InlineData("aad:6F1C0D2E-3B4A-4C5D-9E8F-0A1B2C3D4E5F", false)]
    [InlineData("KEY", false)]
    [InlineData("aad:", false)]
    [InlineData("github:6f1c0d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f", false)]
    [InlineData("operator", false)]
    public void A_recorded_caller_is_key_or_a_lower_case_entra_name(string? recorded, bool valid)
    {
        var problem = ApiCaller.CheckRecorded(recorded);

        Assert.Equal(valid, problem is null);
        if (!valid)
        {
            Assert.StartsWith($"caller '{recorded}' must be 'key' or 'aad:'", problem, StringComparison.Ordinal);
        }
    }

    private static Dictionary<string, IEnumerable<string>> Entra(string objectId) =>
        Headers(("X-MS-CLIENT-PRINCIPAL-ID", objectId), ("X-MS-CLIENT-PRINCIPAL-IDP", "aad"));

    /// <summary>Headers as the Functions worker gives them: one entry per name (any case), its values in order.</summary>
    internal static Dictionary<string, IEnumerable<string>> Headers(params (string Name, string Value)[] headers) =>
        headers.GroupBy(h => h.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (IEnumerable<string>)g.Select(h => h.Value).ToList(), StringComparer.OrdinalIgnoreCase);
}
