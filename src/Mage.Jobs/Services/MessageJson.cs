using System.Text.Json;

namespace Mage.Jobs.Services;

/// <summary>Reads incoming messages: strict deserialization that reports instead of throwing. Stateless and thread-safe.</summary>
internal static class MessageJson
{
    /// <summary>
    /// Deserializes <paramref name="json"/> with <see cref="JsonDefaults.Strict"/>; on failure
    /// returns null and sets <paramref name="error"/> to a message naming what was wrong and where.
    /// </summary>
    /// <param name="json">The message body.</param>
    /// <param name="what">What the message is, for the error (<c>job message</c>, <c>message</c>).</param>
    /// <param name="error">Why it was refused, or null.</param>
    public static T? Deserialize<T>(string json, string what, out string? error)
        where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize<T>(json, JsonDefaults.Strict);
            error = value is null ? $"The {what} is empty (null)." : null;
            return value;
        }
        catch (JsonException e)
        {
            error = $"The {what} is not valid: {Describe(e)}";
            return null;
        }
    }

    /// <summary>
    /// The problem with the member System.Text.Json stopped at, named by its JSON path first:
    /// <c>kind 'paint' is not one of ...</c> rather than a bare message, or the serializer's
    /// trailing <c>Path: $.kind | LineNumber: ...</c>.
    /// </summary>
    private static string Describe(JsonException e)
    {
        var message = e.Message;
        if (e.Path is not { Length: > 2 } path)
        {
            return message;
        }

        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        var problem = at < 0 ? message : message[..at];

        // Mage's own converters start with the offending value ('paint' is not one of ...); the serializer's messages are sentences.
        return problem.StartsWith('\'') ? $"{field} {problem}" : $"{field}: {problem}";
    }

    /// <summary>
    /// The id in member <paramref name="member"/> of a message that may be invalid otherwise, when it
    /// is a usable id (<see cref="Storage.BlobNames.IsId"/>); null when there is none. Lets a refused
    /// message be recorded where its sender will look.
    /// </summary>
    public static string? SalvageId(string json, string member)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            return doc.RootElement.ValueKind == JsonValueKind.Object
                   && doc.RootElement.TryGetProperty(member, out var id)
                   && id.ValueKind == JsonValueKind.String
                   && Storage.BlobNames.IsId(id.GetString())
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
