using System.Text.Json;

namespace Mage.Functions.Tests;

/// <summary>
/// The functions.metadata the worker SDK generates is what the host indexes: names, triggers,
/// binding expressions and connections must match what the infrastructure deploys.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Dictionary<string, JsonElement> Functions = Load();

    [Theory]
    [InlineData("SubmitJob", "%Mage:Storage:JobsQueue%")]
    [InlineData("ProcessShard", "%Mage:Storage:ShardsQueue%")]
    [InlineData("ProcessEdit", "%Mage:Storage:EditsQueue%")]
    [InlineData("ProcessGenerate", "%Mage:Storage:GenerateQueue%")]
    public void Queue_functions_bind_the_configured_queue_on_MageStorage(string name, string queue)
    {
        var trigger = Trigger(name);
        Assert.Equal("queueTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(queue, trigger.GetProperty("queueName").GetString());
        Assert.Equal("MageStorage", trigger.GetProperty("connection").GetString());
    }

    [Fact]
    public void EmbedUpload_is_an_event_grid_blob_trigger()
    {
        var trigger = Trigger("EmbedUpload");
        Assert.Equal("blobTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("%Mage:Storage:UploadsContainer%/{name}", trigger.GetProperty("path").GetString());
        Assert.Equal("MageStorage", trigger.GetProperty("connection").GetString());
        Assert.Equal("EventGrid", trigger.GetProperty("source").GetString());
    }

    [Theory]
    [InlineData("JobStatus", "api/jobs/{jobId}", "get")]
    [InlineData("SubmitJobHttp", "api/jobs", "post")]
    [InlineData("SubmitEditHttp", "api/edits", "post")]
    [InlineData("EditStatus", "api/edits/{requestId}", "get")]
    [InlineData("EditFile", "api/edits/{requestId}/files/{name}", "get")]
    [InlineData("SubmitGenerationHttp", "api/generations", "post")]
    [InlineData("GenerationStatus", "api/generations/{requestId}", "get")]
    [InlineData("GenerationFile", "api/generations/{requestId}/files/{name}", "get")]
    [InlineData("ListJobs", "api/jobs", "get")]
    [InlineData("OpenApi", "api/openapi.json", "get")]
    [InlineData("EmbedHttp", "api/embeddings", "post")]
    public void Http_functions_have_routes_and_function_keys(string name, string route, string method)
    {
        var trigger = Trigger(name);
        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal("Function", trigger.GetProperty("authLevel").GetString());
        Assert.Equal([method], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public void Exactly_the_expected_functions_exist()
    {
        Assert.Equal(
            ["EditFile", "EditStatus", "EmbedHttp", "EmbedUpload", "GenerationFile", "GenerationStatus", "JobStatus", "ListJobs", "OpenApi", "ProcessEdit", "ProcessGenerate", "ProcessShard", "StudioFile", "StudioPage", "SubmitEditHttp", "SubmitGenerationHttp", "SubmitJob", "SubmitJobHttp"],
            Functions.Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The studio's page and files (<see cref="Mage.Jobs.Http.Studio.StudioFiles"/>) are the app's only
    /// anonymous routes: the page at the root (an optional parameter of length 0, since a route cannot be
    /// empty) and its files under <c>studio/</c>, outside <c>api/</c>.
    /// </summary>
    [Theory]
    [InlineData("StudioPage", "{ignored:maxlength(0)?}")]
    [InlineData("StudioFile", Mage.Jobs.Http.Studio.StudioFiles.FileRoute)]
    public void Studio_functions_are_anonymous_gets_outside_the_api(string name, string route)
    {
        var trigger = Trigger(name);
        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal("Anonymous", trigger.GetProperty("authLevel").GetString());
        Assert.Equal(["get"], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["StudioFile", "StudioPage"], HttpTriggers().Where(t => t.Binding.GetProperty("authLevel").GetString() != "Function").Select(t => t.Function).Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// host.json clears the host's default <c>api</c> route prefix, so the studio can answer <c>/</c>;
    /// every API function spells <c>api/</c> in its own route instead, and callers see the same URLs.
    /// </summary>
    [Fact]
    public void Host_json_has_an_empty_route_prefix_and_every_function_key_route_is_under_api()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")));
        Assert.Equal(string.Empty, host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.All(
            HttpTriggers().Where(t => t.Binding.GetProperty("authLevel").GetString() == "Function"),
            t => Assert.StartsWith("api/", t.Binding.GetProperty("route").GetString(), StringComparison.Ordinal));
    }

    /// <summary>
    /// The OpenAPI document (<see cref="Mage.Jobs.Http.OpenApiDocument"/>) lists exactly the app's API
    /// functions (every HTTP function but the studio's), plus <c>GET /api/health</c>, which only
    /// <c>mage serve</c> has.
    /// </summary>
    [Fact]
    public void The_openapi_document_lists_exactly_the_api_functions()
    {
        var functions = HttpTriggers()
            .Where(t => t.Function is not ("StudioPage" or "StudioFile"))
            .SelectMany(t => t.Binding.GetProperty("methods").EnumerateArray().Select(m => $"{m.GetString()!.ToUpperInvariant()} /{t.Binding.GetProperty("route").GetString()}"))
            .Append("GET /api/health");
        var documented = Mage.Jobs.Http.OpenApiDocument.Document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"));

        Assert.Equal(documented.Order(StringComparer.Ordinal), functions.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Test_output_has_no_cuda_natives()
    {
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so")));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime.so")));
    }

    /// <summary>Every HTTP trigger binding with its function's name.</summary>
    private static IEnumerable<(string Function, JsonElement Binding)> HttpTriggers() =>
        Functions.SelectMany(f => f.Value.GetProperty("bindings").EnumerateArray().Select(b => (f.Key, b)))
            .Where(t => t.b.GetProperty("type").GetString() == "httpTrigger");

    private static JsonElement Trigger(string function) =>
        Functions[function].GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>
    /// Reads the file from the Functions project's build output of the same configuration as this
    /// test assembly (the ProjectReference builds it first).
    /// </summary>
    private static Dictionary<string, JsonElement> Load()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/{Configuration}/net10.0/
        var path = Path.Combine(RepoPaths.Root, "src", "Mage.Functions", "bin", configuration, "net10.0", "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing; build src/Mage.Functions.");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    }
}
