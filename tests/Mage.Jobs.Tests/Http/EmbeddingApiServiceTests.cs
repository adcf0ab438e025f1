using System.Net;
using System.Text;
using System.Text.Json;
using Mage.Inference;
using Mage.Inference.Engine;
using Mage.Jobs.Hosting;
using Mage.Jobs.Http;
using Mage.Jobs.Tests.Infrastructure;

namespace Mage.Jobs.Tests.Http;

/// <summary>
/// Synchronous embeddings over HTTP (docs/api.md, POST /api/embeddings): <see cref="EmbeddingApiService"/>
/// with the test host's tiny model, compared with the engine itself.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EmbeddingApiServiceTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly IEnumerable<KeyValuePair<string, IEnumerable<string>>> NoHeaders = [];

    private MageTestHost host = null!;

    private EmbeddingApiService Api => host.Get<EmbeddingApiService>();

    public async Task InitializeAsync() => host = await MageTestHost.StartAsync(azurite);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_png_gets_the_vector_an_upload_gets_and_a_bad_image_fails_alone()
    {
        var png = MageTestHost.RandomPng(3, 64, 48);
        var body = new { images = new object[] { new { id = "a", data = Convert.ToBase64String(png) }, new { id = "b", data = "not base64!" }, new { id = "c", data = Convert.ToBase64String("hello"u8.ToArray()) } } };

        var answer = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var items = answer.Json.GetProperty("embeddings").EnumerateArray().ToList();
        Assert.Equal(["a", "b", "c"], items.Select(i => i.GetProperty("id").GetString()));
        AssertClose(await ExpectedAsync(png), Vector(items[0].GetProperty("embedding")));
        Assert.False(items[0].TryGetProperty("error", out _));
        Assert.StartsWith("invalidRequest: ", items[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(items[1].TryGetProperty("embedding", out _));
        Assert.StartsWith("notAnImage: ", items[2].GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_search_skill_shape_answers_vectors_and_per_record_errors()
    {
        var png = MageTestHost.RandomPng(4);
        var body = new { values = new object[] { new { recordId = "1", data = new { image = Convert.ToBase64String(png) } }, new { recordId = "2", data = new { image = "AAAA" } }, new { recordId = "3", data = new { } } } };

        var answer = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var records = answer.Json.GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(["1", "2", "3"], records.Select(r => r.GetProperty("recordId").GetString()));
        AssertClose(await ExpectedAsync(png), Vector(records[0].GetProperty("data").GetProperty("vector")));
        Assert.Equal(0, records[0].GetProperty("errors").GetArrayLength());
        Assert.Equal(0, records[0].GetProperty("warnings").GetArrayLength());
        foreach (var failed in records.Skip(1))
        {
            Assert.False(failed.GetProperty("data").TryGetProperty("vector", out _));
            Assert.NotEmpty(Assert.Single(failed.GetProperty("errors").EnumerateArray()).GetProperty("message").GetString()!);
        }

        Assert.Contains("values[2].data.image", records[2].GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_many_images_or_neither_shape_is_refused_with_a_clear_message()
    {
        var many = new { images = Enumerable.Range(0, EmbeddingApiService.MaxImages + 1).Select(i => new { id = $"i{i}", data = "AAAA" }).ToArray() };
        var tooMany = await PostAsync(many);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.Status);
        Assert.Contains($"at most {EmbeddingApiService.MaxImages}", tooMany.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var neither = await PostAsync(new { pictures = Array.Empty<object>() });
        Assert.Equal(HttpStatusCode.BadRequest, neither.Status);
        Assert.Contains("\"images\"", neither.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var noId = await PostAsync(new { images = new[] { new { data = "AAAA" } } });
        Assert.Equal(HttpStatusCode.BadRequest, noId.Status);
        Assert.Contains("images[0]", noId.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("images[0]", noId.Json.GetProperty("field").GetString());
        Assert.Equal("images", tooMany.Json.GetProperty("field").GetString());
        Assert.False(neither.Json.TryGetProperty("field", out _));

        using var huge = new MemoryStream(new byte[EmbeddingApiService.MaxBodyBytes + 1]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Api.EmbedHttpAsync(huge, NoHeaders, "c")).Status);
    }

    private async Task<float[]> ExpectedAsync(byte[] png)
    {
        var engine = await host.Get<IMageEngineSource>().GetEngineAsync();
        return (await engine.EmbedAsync(png, new EmbedOptions(MageDefaults.Pooling, Normalize: false, MageDefaults.EmbedPreprocess))).Features;
    }

    private async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(object body)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body)));
        var result = await Api.EmbedHttpAsync(stream, NoHeaders, "c");
        using var written = new MemoryStream();
        await result.WriteBodyAsync(written);
        return (result.Status, JsonDocument.Parse(written.ToArray()).RootElement.Clone());
    }

    private static float[] Vector(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    /// <summary>Same engine, same bytes, same options: the only difference allowed is float32 noise from batching (1e-5 absolute).</summary>
    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
