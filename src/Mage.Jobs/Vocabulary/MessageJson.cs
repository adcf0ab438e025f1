using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Vocabulary;

/// <summary>Reads incoming messages: strict deserialization that reports instead of throwing. Stateless and thread-safe.</summary>
internal static class MessageJson
{
    /// <summary>What joins "The {what}" to the problem in <see cref="Deserialize"/>'s errors; the problem then begins with the member's path.</summary>
    internal const string NotValid = " is not valid: ";

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
            error = $"The {what}{NotValid}{Describe<T>(e, json)}";
            return null;
        }
    }

    /// <summary>
    /// The problem with the member System.Text.Json stopped at, in the message's own terms: the
    /// member by its JSON path, what it should hold and what it holds (<c>seed: expected a whole
    /// number from 0 to 4294967295, not the string "7"</c>), never a .NET type name. Mage's own
    /// converters already word theirs (<c>kind 'paint' is not one of ...</c>); JSON syntax errors
    /// keep the serializer's position (<c>LineNumber: 0 | BytePositionInLine: 7</c>).
    /// </summary>
    private static string Describe<T>(JsonException e, string json)
    {
        var path = e.Path ?? "$";
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path == "$" ? "" : path;
        var message = e.Message;
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        var problem = at < 0 ? message : message[..at];

        if (problem.StartsWith('\''))
        {
            return $"{field} {problem}";
        }

        if (e.InnerException is null && problem.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var fields = ContainerOf<T>(path) is { Kind: JsonTypeInfoKind.Object } owner ? string.Join(", ", owner.Properties.Select(p => p.Name)) : null;
            return fields is null ? $"{field} is not a known field." : $"{field} is not a known field; the fields here are {fields}.";
        }

        if (problem.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
        {
            var expected = Expected(TypeAt<T>(path));
            var found = FoundAt(json, path);
            var wrong = found is null ? $"expected {expected}" : $"expected {expected}, not {found}";
            return field.Length == 0 ? $"the message must be {expected}{(found is null ? "" : $", not {found}")}." : $"{field}: {wrong}.";
        }

        // Syntax errors and the like name no type: keep the serializer's words and position.
        return field.Length == 0 ? message : $"{field}: {message}";
    }

    /// <summary>The declared type of the member at <paramref name="path"/> in a <typeparamref name="T"/>, or null when the path leads nowhere known.</summary>
    private static Type? TypeAt<T>(string path) => Walk(typeof(T), JsonPath.Steps(path));

    /// <summary>The type info of the object that holds the last member of <paramref name="path"/>.</summary>
    private static JsonTypeInfo? ContainerOf<T>(string path)
    {
        var steps = JsonPath.Steps(path);
        return Walk(typeof(T), steps.Take(steps.Count - 1)) is { } type ? JsonDefaults.Strict.GetTypeInfo(type) : null;
    }

    private static Type? Walk(Type root, IEnumerable<JsonPath.Step> steps)
    {
        Type? type = root;
        foreach (var step in steps)
        {
            type = type is null ? null : Step(JsonDefaults.Strict.GetTypeInfo(type), step);
        }

        return type;
    }

    private static Type? Step(JsonTypeInfo info, JsonPath.Step step) =>
        step.Name is { } name
            ? info.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))?.PropertyType
            : info.ElementType;

    /// <summary>What a member of <paramref name="type"/> must hold, in JSON terms.</summary>
    private static string Expected(Type? type)
    {
        if (type is null)
        {
            return "a different kind of value";
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return "a string";
        }

        if (type == typeof(bool))
        {
            return "true or false";
        }

        if (type == typeof(float) || type == typeof(double) || type == typeof(decimal))
        {
            return "a number";
        }

        if (type.IsPrimitive && type.GetField("MinValue") is { } min && type.GetField("MaxValue") is { } max)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"a whole number from {min.GetValue(null)} to {max.GetValue(null)}");
        }

        return JsonDefaults.Strict.GetTypeInfo(type).Kind switch
        {
            JsonTypeInfoKind.Enumerable => "an array",
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "an object",
            _ => "a different kind of value",
        };
    }

    /// <summary>What the message holds at <paramref name="path"/> (<c>the string "7"</c>, <c>an array</c>), or null when it cannot be read there.</summary>
    private static string? FoundAt(string json, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = JsonDefaults.Strict.MaxDepth });
            var element = doc.RootElement;
            foreach (var step in JsonPath.Steps(path))
            {
                if (step.Name is { } name ? element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)
                    : element.ValueKind != JsonValueKind.Array || step.Index >= element.GetArrayLength())
                {
                    return null;
                }

                if (step.Name is null)
                {
                    element = element[step.Index];
                }
            }

            return element.ValueKind switch
            {
                JsonValueKind.Object => "an object",
                JsonValueKind.Array => "an array",
                JsonValueKind.String => $"the string {Quote(element.GetString()!)}",
                JsonValueKind.Number => $"the number {Shorten(element.GetRawText())}",
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => "null",
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the JSON object <paramref name="json"/> has a member <paramref name="name"/> at its top level,
    /// matched ignoring case (as <see cref="JsonDefaults.Strict"/> matches members), whatever its value, even null.
    /// The body must already have been read as an object.
    /// </summary>
    public static bool HasMember(string json, string name)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// A short stable name for a message that names no usable id (32 hex digits of its SHA-256):
    /// copies of the same bad message are recorded once, in the same place.
    /// </summary>
    public static string Hash(string message) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message)))[..32];

    private static string Quote(string value) => JsonSerializer.Serialize(Shorten(value));

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";

    /// <summary>
    /// The id in member <paramref name="member"/> of a message that may be invalid otherwise, when it
    /// is a usable id (<see cref="BlobNames.IsId"/>); null when there is none. Lets a refused
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
                   && BlobNames.IsId(id.GetString())
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
