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
    [InlineData("JobStatus", "jobs/{jobId}", "get")]
    [InlineData("SubmitJobHttp", "jobs", "post")]
    [InlineData("SubmitEditHttp", "edits", "post")]
    [InlineData("EditStatus", "edits/{requestId}", "get")]
    [InlineData("EditFile", "edits/{requestId}/files/{name}", "get")]
    [InlineData("SubmitGenerationHttp", "generations", "post")]
    [InlineData("GenerationStatus", "generations/{requestId}", "get")]
    [InlineData("GenerationFile", "generations/{requestId}/files/{name}", "get")]
    [InlineData("ListJobs", "jobs", "get")]
    [InlineData("OpenApi", "openapi.json", "get")]
    [InlineData("EmbedHttp", "embeddings", "post")]
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
            ["EditFile", "EditStatus", "EmbedHttp", "EmbedUpload", "GenerationFile", "GenerationStatus", "JobStatus", "ListJobs", "OpenApi", "ProcessEdit", "ProcessGenerate", "ProcessShard", "SubmitEditHttp", "SubmitGenerationHttp", "SubmitJob", "SubmitJobHttp"],
            Functions.Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The OpenAPI document (<see cref="Mage.Jobs.Http.OpenApiDocument"/>) lists exactly the app's HTTP
    /// functions, plus <c>GET /api/health</c>, which only <c>mage serve</c> has.
    /// </summary>
    [Fact]
    public void The_openapi_document_lists_exactly_the_http_functions()
    {
        var functions = Functions.Values
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray())
            .Where(b => b.GetProperty("type").GetString() == "httpTrigger")
            .SelectMany(b => b.GetProperty("methods").EnumerateArray().Select(m => $"{m.GetString()!.ToUpperInvariant()} /api/{b.GetProperty("route").GetString()}"))
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
