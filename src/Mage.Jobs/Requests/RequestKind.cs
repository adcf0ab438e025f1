using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.Requests;

/// <summary>What an edit or generation request asks for; <c>kind</c> in edit messages and in result records.</summary>
[JsonConverter(typeof(WireNameConverter<RequestKind>))]
public enum RequestKind
{
    /// <summary>Regenerate a masked part of the image.</summary>
    [JsonStringEnumMemberName("inpaint")]
    Inpaint,

    /// <summary>Extend the image beyond its edges.</summary>
    [JsonStringEnumMemberName("outpaint")]
    Outpaint,

    /// <summary>Shrink the image onto the canvas and generate around it.</summary>
    [JsonStringEnumMemberName("uncrop")]
    Uncrop,

    /// <summary>Unconditional generation (the generate queue, not an edit kind).</summary>
    [JsonStringEnumMemberName("generate")]
    Generate,
}
