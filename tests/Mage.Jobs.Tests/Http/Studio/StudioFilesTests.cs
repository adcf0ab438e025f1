using System.Net;
using System.Text;
using Mage.Jobs.Http.Studio;

namespace Mage.Jobs.Tests.Http.Studio;

/// <summary>
/// The studio's files as both hosts answer them (<see cref="StudioFiles.Answer"/>): the embedded bytes
/// with their Content-Type and the same-origin-only policy; any other name 404, with the same policy.
/// </summary>
public sealed class StudioFilesTests
{
    public static TheoryData<string, string> Files => new()
    {
        { "index.html", "text/html; charset=utf-8" },
        { "studio.css", "text/css; charset=utf-8" },
        { "studio.js", "text/javascript; charset=utf-8" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Each_file_is_its_source_with_its_type_and_safe_headers(string name, string contentType)
    {
        var answer = StudioFiles.Answer(name, "c-1");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var headers = answer.Headers(new Uri("http://127.0.0.1:7071/")).ToDictionary(h => h.Key, h => h.Value);
        Assert.Equal(contentType, headers["Content-Type"]);
        AssertSafe(headers);
        using var body = new MemoryStream();
        await answer.WriteBodyAsync(body);
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Mage.Jobs", "Http", "Studio", name)), Encoding.UTF8.GetString(body.ToArray()));
    }

    [Theory]
    [InlineData("nope.js")]
    [InlineData("Index.html")]
    [InlineData("../openapi.json")]
    [InlineData("StudioFiles.cs")]
    [InlineData(null)]
    public async Task Any_other_name_is_404_naming_the_files_there_are(string? name)
    {
        var answer = StudioFiles.Answer(name, "c-1");

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        using var body = new MemoryStream();
        await answer.WriteBodyAsync(body);
        Assert.Contains("No such studio file; the studio has index.html, studio.css, studio.js.", Encoding.UTF8.GetString(body.ToArray()));
        AssertSafe(answer.Headers(new Uri("http://127.0.0.1:7071/")).ToDictionary(h => h.Key, h => h.Value));
    }

    /// <summary>
    /// The page loads its script and style from its own origin only (no inline code, so no 'unsafe-inline'),
    /// and shows results fetched as blob: URLs.
    /// </summary>
    [Fact]
    public void The_page_uses_no_inline_script_or_style()
    {
        var page = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Mage.Jobs", "Http", "Studio", StudioFiles.Page));

        Assert.DoesNotContain("<script>", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<style", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" style=", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", page);
    }

    private static void AssertSafe(Dictionary<string, string> headers)
    {
        Assert.Equal("default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", headers["Content-Security-Policy"]);
        Assert.Equal("nosniff", headers["X-Content-Type-Options"]);
    }
}
