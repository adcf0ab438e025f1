using System.Text.Json.Serialization;
using Mage.Inference;

namespace Mage.Jobs.Vocabulary;

/// <summary>
/// The <c>status</c> of a written record (upload, request, rejected job) and of an event: the work
/// either completed or failed for a reason the record states.
/// </summary>
[JsonConverter(typeof(WireNameConverter<RecordStatus>))]
public enum RecordStatus
{
    /// <summary>Results written; the record lists them.</summary>
    [JsonStringEnumMemberName("completed")]
    Completed,

    /// <summary>Refused or broken input: the record's reason and message say why.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}
