using System.Text.Json;
using Mage.Jobs.Http;

namespace Mage.Jobs.Tests.Http;

/// <summary>The OpenAPI document's own consistency: its references lead somewhere, and its error answers are the problems the API writes.</summary>
public sealed class OpenApiDocumentTests
{
    [Fact]
    public void Every_reference_resolves_to_a_component()
    {
        var references = References(OpenApiDocument.Document).ToList();

        Assert.Contains("#/components/schemas/Problem", references);
        Assert.Contains("#/components/schemas/EmbeddingAnswer", references);
        foreach (var reference in references)
        {
            var at = OpenApiDocument.Document;
            foreach (var step in reference["#/".Length..].Split('/'))
            {
                Assert.True(at.TryGetProperty(step, out at), $"{reference} leads nowhere (no '{step}').");
            }
        }
    }

    [Fact]
    public void Errors_are_problem_json_with_the_members_api_problem_writes()
    {
        var error = OpenApiDocument.Document.GetProperty("components").GetProperty("responses").GetProperty("Error");
        var schema = OpenApiDocument.Document.GetProperty("components").GetProperty("schemas").GetProperty("Problem");
        var written = JsonSerializer.SerializeToElement(ApiProblem.Of(System.Net.HttpStatusCode.BadRequest, "d", "c", "f"));

        Assert.Equal("application/problem+json", Assert.Single(error.GetProperty("content").EnumerateObject()).Name);
        Assert.Equal(
            written.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal),
            schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("field", schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
    }

    private static IEnumerable<string> References(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "$ref")
                    {
                        yield return property.Value.GetString()!;
                    }

                    foreach (var inner in References(property.Value))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var inner in element.EnumerateArray().SelectMany(References))
                {
                    yield return inner;
                }

                break;
        }
    }
}
