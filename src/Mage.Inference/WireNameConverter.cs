using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mage.Inference;

/// <summary>
/// Reads and writes an enum as its <see cref="WireNames"/> name. Unlike the default enum
/// handling it refuses numbers and unknown names, with a message that lists the valid names
/// (System.Text.Json adds the JSON path of the member).
/// </summary>
/// <typeparam name="TEnum">An enum whose members carry <see cref="JsonStringEnumMemberNameAttribute"/>.</typeparam>
public sealed class WireNameConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    /// <inheritdoc />
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected one of {WireNames.List<TEnum>()} as a string, not {reader.TokenType}.");
        }

        var name = reader.GetString();
        return WireNames.TryParse<TEnum>(name, out var value)
            ? value
            : throw new JsonException($"'{name}' is not one of {WireNames.List<TEnum>()}.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(WireNames.Of(value));
    }
}
