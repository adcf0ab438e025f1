using System.Globalization;

namespace Mage.Jobs.Vocabulary;

/// <summary>
/// Reads the JSON paths System.Text.Json reports in its exceptions (<c>$.source.blobs[3]</c>,
/// <c>$['odd name']</c>) into steps. Stateless and thread-safe.
/// </summary>
internal static class JsonPath
{
    /// <summary>The steps of <paramref name="path"/>; empty for the root (<c>$</c>) or a path it cannot read.</summary>
    public static IReadOnlyList<Step> Steps(string path)
    {
        var steps = new List<Step>();
        var i = path.StartsWith('$') ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                steps.Add(new Step(path[(i + 1)..end], -1));
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['", StringComparison.Ordinal))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    return [];
                }

                steps.Add(new Step(path[(i + 2)..end], -1));
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i + 1);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    return [];
                }

                steps.Add(new Step(null, index));
                i = end + 1;
            }
            else
            {
                return [];
            }
        }

        return steps;
    }

    /// <summary>One step: a member <paramref name="Name"/>, or (Name null) the array element at <paramref name="Index"/>.</summary>
    internal readonly record struct Step(string? Name, int Index);
}
