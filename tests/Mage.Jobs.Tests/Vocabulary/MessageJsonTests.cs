using Mage.Jobs.Services;

namespace Mage.Jobs.Tests.Vocabulary;

public sealed class MessageJsonTests
{
    [Theory]
    [InlineData("""{ "requestId": "r1", "kind": "paint" }""", "kind 'paint' is not one of 'inpaint', 'outpaint', 'uncrop', 'generate'.")]
    [InlineData("""{ "requestId": "r1", "kind": 0 }""", "kind: expected one of 'inpaint', 'outpaint', 'uncrop', 'generate' as a string, not Number.")]
    [InlineData("""{ "requestId": "r1", "preprocess": "stretch" }""", "preprocess 'stretch' is not one of 'linprobe', 'square', 'none'.")]
    public void An_unknown_name_is_refused_naming_the_member(string json, string problem)
    {
        var request = MessageJson.Deserialize<EditRequest>(json, "message", out var error);

        Assert.Null(request);
        Assert.Equal($"The message is not valid: {problem}", error);
    }

    [Fact]
    public void A_serializer_error_names_the_member_first()
    {
        MessageJson.Deserialize<GenerateRequestMessage>("""{ "requestId": "r1", "count": "3" }""", "message", out var error);

        Assert.StartsWith("The message is not valid: count: ", error, StringComparison.Ordinal);
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
