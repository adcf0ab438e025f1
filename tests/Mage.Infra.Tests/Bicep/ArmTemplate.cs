using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// Read-only view of a compiled ARM template (the JSON `bicep build` writes): resources of the
/// template and of every nested module deployment, with the deployment each belongs to.
/// </summary>
internal sealed partial class ArmTemplate(JsonObject root)
{
    public JsonObject Root { get; } = root;

    /// <summary>The template as text, for whole-template scans (e.g. no account keys anywhere).</summary>
    public string Text { get; } = Json(root);

    /// <summary>JSON text without escaping quotes, so ARM expressions read as written.</summary>
    public static string Json(JsonNode node) => node.ToJsonString(RawOptions);

    private static readonly JsonSerializerOptions RawOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Every resource the templates deploy, depth first; Module is the nested deployment's name, or
    /// null at the top. References to existing resources (<c>"existing": true</c>) are left out.
    /// </summary>
    public IEnumerable<ArmResource> Resources => Walk(Root, module: null, moduleDeployment: null);

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    public ArmResource Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected one {type}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The module deployment (Microsoft.Resources/deployments) with this name.</summary>
    public ArmResource Module(string name) =>
        OfType("Microsoft.Resources/deployments").Single(r => r.Name == name);

    /// <summary>
    /// A top-level variable, following the indirection Bicep emits for loadJsonContent
    /// (<c>[variables('$fxv#0')]</c>).
    /// </summary>
    public JsonNode? MainVariable(string name)
    {
        var value = Root["variables"]?[name];
        for (var hops = 0; hops < 3 && value is JsonValue v && v.TryGetValue(out string? text); hops++)
        {
            var references = VariableReferences(text).ToList();
            if (references.Count != 1 || text != $"[variables('{references[0]}')]")
            {
                break;
            }

            value = Root["variables"]?[references[0]];
        }

        return value;
    }

    /// <summary>Names of the variables an expression reads: variables('name').</summary>
    public static IEnumerable<string> VariableReferences(string text) =>
        VariablePattern().Matches(text).Select(m => m.Groups[1].Value);

    /// <summary>GUIDs in an expression such as subscriptionResourceId(..., '&lt;guid&gt;').</summary>
    public static IEnumerable<string> Guids(string text) =>
        GuidPattern().Matches(text).Select(m => m.Value.ToLowerInvariant());

    private static IEnumerable<ArmResource> Walk(JsonObject template, string? module, ArmResource? moduleDeployment)
    {
        var resources = template["resources"] switch
        {
            JsonArray array => array.OfType<JsonObject>(),
            JsonObject symbolic => symbolic.Select(p => p.Value).OfType<JsonObject>(),
            _ => [],
        };

        foreach (var resource in resources.Where(r => r["existing"]?.GetValue<bool>() != true))
        {
            var current = new ArmResource(resource, template, module, moduleDeployment);
            yield return current;
            if (current.Type == "Microsoft.Resources/deployments"
                && resource["properties"]?["template"] is JsonObject nested)
            {
                foreach (var inner in Walk(nested, current.Name, current))
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex(@"variables\('([^']+)'\)")]
    private static partial Regex VariablePattern();

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidPattern();
}
