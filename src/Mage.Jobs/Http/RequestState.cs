using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.Http;

/// <summary>Where an edit or generation submitted over HTTP stands: <c>state</c> in <see cref="RequestApiStatus"/>.</summary>
[JsonConverter(typeof(WireNameConverter<RequestState>))]
public enum RequestState
{
    /// <summary>On the queue: no delivery holds its claim and it has no record yet.</summary>
    [JsonStringEnumMemberName("queued")]
    Queued,

    /// <summary>A delivery holds its claim.</summary>
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>result.json is written: its files can be downloaded.</summary>
    [JsonStringEnumMemberName("completed")]
    Completed,

    /// <summary>error.json is written: <c>reason</c> and <c>error</c> say why.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}
