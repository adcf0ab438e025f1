using System.Text;
using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Vocabulary;

public sealed class JsonDefaultsTests
{
    [Fact]
    public void Strict_reads_camel_case_and_any_letter_case()
    {
        var message = JsonSerializer.Deserialize<ShardMessage>("""{ "JOBID": "j1", "shard": 4 }""", JsonDefaults.Strict);

        Assert.Equal(new ShardMessage("j1", 4), message);
    }

    [Fact]
    public void Strict_rejects_unknown_members()
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ShardMessage>("""{ "jobId": "j1", "shard": 4, "retry": true }""", JsonDefaults.Strict));

        Assert.Contains("retry", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "jobId": "j1", "shard": "4" }""")]
    [InlineData("""{ "jobId": "j1", "shard": 4.5 }""")]
    [InlineData("""{ "jobId": "j1", "shard": "NaN" }""")]
    [InlineData("""{ "jobId": 1, "shard": 4 }""")]
    public void Strict_rejects_numbers_as_strings_and_other_wrong_types(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ShardMessage>(json, JsonDefaults.Strict));
    }

    [Fact]
    public void Strict_stops_at_a_depth_of_sixteen()
    {
        var sixteen = new string('[', 16) + new string(']', 16);
        var seventeen = new string('[', 17) + new string(']', 17);

        Assert.Equal(JsonValueKind.Array, JsonSerializer.Deserialize<JsonElement>(sixteen, JsonDefaults.Strict).ValueKind);
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JsonElement>(seventeen, JsonDefaults.Strict));
        Assert.Contains("depth of 16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Documents_are_camel_case_indented_and_leave_nulls_out()
    {
        var json = Encoding.UTF8.GetString(JsonDefaults.ToDocument(new BlobRef("uploads", null)).ToArray());

        Assert.Equal("{\n  \"container\": \"uploads\"\n}", json.ReplaceLineEndings("\n"));
    }
}
