using Mage.Jobs.BulkJobs;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Vocabulary;

public sealed class MessageJsonTests
{
    [Theory]
    [InlineData("""{ "requestId": "r1", "kind": "paint" }""", "kind 'paint' is not one of 'inpaint', 'outpaint', 'uncrop', 'generate'.")]
    [InlineData("""{ "requestId": "r1", "kind": 0 }""", "kind: expected one of 'inpaint', 'outpaint', 'uncrop', 'generate' as a string, not Number.")]
    [InlineData("""{ "requestId": "r1", "preprocess": "stretch" }""", "preprocess 'stretch' is not one of 'linprobe', 'square', 'none'.")]
    public void An_unknown_name_is_refused_naming_the_member(string json, string problem)
    {
        var request = MessageJson.Deserialize<EditMessage>(json, "message", out var error);

        Assert.Null(request);
        Assert.Equal($"The message is not valid: {problem}", error);
    }

    [Fact]
    public void A_serializer_error_names_the_member_first()
    {
        MessageJson.Deserialize<GenerateMessage>("""{ "requestId": "r1", "count": "3" }""", "message", out var error);

        Assert.StartsWith("The message is not valid: count: ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "the message must be an object, not an array.")]
    [InlineData("\"hello\"", "the message must be an object, not the string \"hello\".")]
    [InlineData("""{ "requestId": 5 }""", "requestId: expected a string, not the number 5.")]
    [InlineData("""{ "requestId": "r1", "steps": 1.5 }""", "steps: expected a whole number from -2147483648 to 2147483647, not the number 1.5.")]
    [InlineData("""{ "requestId": "r1", "steps": 3000000000 }""", "steps: expected a whole number from -2147483648 to 2147483647, not the number 3000000000.")]
    [InlineData("""{ "requestId": "r1", "boxes": "x" }""", "boxes: expected an array, not the string \"x\".")]
    [InlineData("""{ "requestId": "r1", "boxes": [[1, 2, "a", 4]] }""", "boxes[0][2]: expected a whole number from -2147483648 to 2147483647, not the string \"a\".")]
    [InlineData("""{ "requestId": "r1", "source": 5 }""", "source: expected an object, not the number 5.")]
    [InlineData("""{ "requestId": "r1", "source": { "container": true } }""", "source.container: expected a string, not true.")]
    [InlineData("""{ "requestId": "r1", "temperature": "hot" }""", "temperature: expected a number, not the string \"hot\".")]
    public void A_value_of_the_wrong_kind_is_refused_in_json_terms(string json, string problem)
    {
        MessageJson.Deserialize<EditMessage>(json, "message", out var error);

        Assert.Equal($"The message is not valid: {problem}", error);
    }

    [Fact]
    public void An_unknown_field_is_refused_listing_the_fields_of_its_object()
    {
        MessageJson.Deserialize<JobMessage>("""{ "jobId": "j", "source": { "container": "c", "blob": "a.png" } }""", "job message", out var error);

        Assert.StartsWith("The job message is not valid: source.blob is not a known field; the fields here are ", error, StringComparison.Ordinal);
        Assert.Contains("blobs", error, StringComparison.Ordinal);
    }

    /// <summary>Whatever is wrong, the sender reads JSON terms: no .NET type or namespace.</summary>
    [Theory]
    [InlineData("[]")]
    [InlineData("5")]
    [InlineData("""{ "jobId": 5 }""")]
    [InlineData("""{ "jobId": "j", "shardSize": "x" }""")]
    [InlineData("""{ "jobId": "j", "source": [] }""")]
    [InlineData("""{ "jobId": "j", "source": { "blobs": "a" } }""")]
    [InlineData("""{ "jobId": "j", "normalize": 1 }""")]
    [InlineData("""{ "jobId": "j", "bogus": 1 }""")]
    [InlineData("""{ "jobId": "j", """)]
    [InlineData("""{ "jobId": "j", "source": { "blobs": [1] } }""")]
    public void No_refusal_names_a_dotnet_type(string json)
    {
        MessageJson.Deserialize<JobMessage>(json, "job message", out var error);

        Assert.NotNull(error);
        Assert.DoesNotMatch(@"System\.|Mage\.|\.NET|Int32|IReadOnlyList", error);
    }

    [Theory]
    [InlineData("""{ "requestId": "r-9", "kind": "paint" }""", "r-9")]
    [InlineData("""{ "kind": "paint", "requestId": "r-9", "extra": true }""", "r-9")]
    [InlineData("""{ "requestId": "../x" }""", null)]
    [InlineData("""{ "requestId": 7 }""", null)]
    [InlineData("""[ "requestId" ]""", null)]
    [InlineData("""{ "requestId": """, null)]
    public void SalvageId_reads_a_usable_id_from_a_bad_message(string json, string? expected)
    {
        Assert.Equal(expected, MessageJson.SalvageId(json, "requestId"));
    }
}
