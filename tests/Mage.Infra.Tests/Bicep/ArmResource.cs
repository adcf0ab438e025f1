using System.Text.Json.Nodes;

namespace Mage.Infra.Tests.Bicep;

/// <summary>One resource of a compiled template, with the template that declares it.</summary>
internal sealed record ArmResource(JsonObject Node, JsonObject Template, string? Module, ArmResource? ModuleDeployment)
{
    public string Type => (string)Node["type"]!;

    public string? Name => Node["name"]?.GetValue<string>();

    public JsonNode? Properties => Node["properties"];

    /// <summary>A module's parameter value as passed by its parent (deployments only).</summary>
    public JsonNode? ModuleParameter(string name) => Node["properties"]?["parameters"]?[name]?["value"];

    /// <summary>A parameter declaration of the template this resource lives in.</summary>
    public JsonObject Parameter(string name) =>
        Template["parameters"]?[name] as JsonObject ?? throw new InvalidOperationException($"No parameter {name} in {Module ?? "main"}.");

    /// <summary>A variable of the template this resource lives in.</summary>
    public JsonNode? Variable(string name) => Template["variables"]?[name];
}
