using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mage.Jobs.Vocabulary;

/// <summary>JSON settings shared by messages and documents.</summary>
public static class JsonDefaults
{
    /// <summary>For incoming messages: camelCase, case-insensitive names, unknown members rejected, numbers only as numbers.</summary>
    public static JsonSerializerOptions Strict { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 16,
    };

    /// <summary>For documents Mage writes: camelCase, nulls left out, indented for people.</summary>
    public static JsonSerializerOptions Documents { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public static BinaryData ToDocument<T>(T value) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(value, Documents));
}
