using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mage.Jobs.Events;

/// <summary>
/// A CloudEvents 1.0 event in structured JSON form. <see cref="Id"/> is derived from the event's
/// type, subject and version key, so a retried completion publishes the same id and Service Bus
/// duplicate detection drops the copy.
/// </summary>
public sealed record MageEvent(
    [property: JsonPropertyName("specversion")] string SpecVersion,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("datacontenttype")] string DataContentType,
    [property: JsonPropertyName("data")] MageEventData Data)
{
    public const string EventSource = "/mage";

    /// <summary>CloudEvents structured-mode content type.</summary>
    public const string StructuredContentType = "application/cloudevents+json; charset=utf-8";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Creates an event.</summary>
    /// <param name="type">e.g. <c>mage.upload.completed</c>.</param>
    /// <param name="subject">What it is about, e.g. <c>uploads/cat.jpg</c> or <c>jobs/j1</c>.</param>
    /// <param name="versionKey">What distinguishes one occurrence from a repeat of the same: an etag, a job id.</param>
    /// <param name="data">The payload.</param>
    /// <param name="time">When it happened.</param>
    public static MageEvent Create(string type, string subject, string versionKey, MageEventData data, DateTimeOffset time)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{type}\n{subject}\n{versionKey}")));
        return new MageEvent("1.0", id, EventSource, type, subject, time, "application/json", data);
    }

    /// <summary>The event as UTF-8 JSON.</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads an event written by <see cref="ToJsonBytes"/> (an outbox blob).</summary>
    /// <exception cref="JsonException">The JSON is not an event.</exception>
    internal static MageEvent FromJson(BinaryData json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize<MageEvent>(json.ToMemory().Span, Json) ?? throw new JsonException("The event JSON is null.");
    }
}
