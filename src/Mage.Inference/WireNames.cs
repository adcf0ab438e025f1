using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Serialization;

namespace Mage.Inference;

/// <summary>
/// The one mapping between Mage's enums and the names they have on the wire: in JSON messages and
/// documents, on the command line and in the docs. Each enum member declares its name once, with
/// <see cref="JsonStringEnumMemberNameAttribute"/>; System.Text.Json (through
/// <see cref="WireNameConverter{TEnum}"/>), the CLI and every validator read it from there. An
/// unknown name is an error everywhere, never a default.
/// </summary>
/// <remarks>Stateless and thread-safe. Names match ignoring case; they are written in lower camel case.</remarks>
public static class WireNames
{
    /// <summary>The wire name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a declared member.</exception>
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        Map<TEnum>.Names.TryGetValue(value, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeof(TEnum).Name} has no member {value}.");

    /// <summary>Parses a wire name (ignoring case and surrounding white space); false for anything else, numbers included.</summary>
    public static bool TryParse<TEnum>(string? name, out TEnum value)
        where TEnum : struct, Enum
    {
        if (name is not null && Map<TEnum>.Values.TryGetValue(name.Trim(), out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Parses a wire name (ignoring case).</summary>
    /// <param name="name">The name.</param>
    /// <param name="field">What the name is for (a JSON member, an option), for the message.</param>
    /// <exception cref="InvalidRequestException">Any other name; the message lists the valid ones.</exception>
    public static TEnum Parse<TEnum>(string? name, string field)
        where TEnum : struct, Enum =>
        TryParse<TEnum>(name, out var value) ? value : throw new InvalidRequestException(Unknown<TEnum>(name, field));

    /// <summary>Every wire name of <typeparamref name="TEnum"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<TEnum>()
        where TEnum : struct, Enum => Map<TEnum>.Ordered;

    /// <summary>The names for a message: <c>'linprobe', 'cls', 'mean'</c>.</summary>
    public static string List<TEnum>()
        where TEnum : struct, Enum => string.Join(", ", Map<TEnum>.Ordered.Select(n => $"'{n}'"));

    /// <summary>The message for a name that is not one of <typeparamref name="TEnum"/>'s.</summary>
    public static string Unknown<TEnum>(string? name, string field)
        where TEnum : struct, Enum => $"{field} '{name}' is not one of {List<TEnum>()}.";

    /// <summary>The mapping of one enum, read once from its members' attributes.</summary>
    private static class Map<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly IReadOnlyList<string> Ordered;
        public static readonly FrozenDictionary<TEnum, string> Names;
        public static readonly FrozenDictionary<string, TEnum> Values;

#pragma warning disable CA1810 // The three tables come from one pass over the members; an initializer per field would walk them three times.
        static Map()
#pragma warning restore CA1810
        {
            var members = typeof(TEnum).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => (Value: (TEnum)f.GetValue(null)!, Name: f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                    ?? throw new InvalidOperationException($"{typeof(TEnum).Name}.{f.Name} has no wire name ([JsonStringEnumMemberName]).")))
                .ToList();
            Ordered = [.. members.Select(m => m.Name)];
            Names = members.ToFrozenDictionary(m => m.Value, m => m.Name);
            Values = members.ToFrozenDictionary(m => m.Name, m => m.Value, StringComparer.OrdinalIgnoreCase);
        }
    }
}
