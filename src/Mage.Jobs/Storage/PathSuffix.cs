namespace Mage.Jobs.Storage;

/// <summary>
/// What the results layout adds to a caller's name (an upload's name, an output prefix) in the
/// longest path it builds from it: characters, and '/'-separated segments. Immutable.
/// </summary>
/// <param name="Characters">Characters added to the name.</param>
/// <param name="Segments">Path segments added to the name's own.</param>
internal readonly record struct PathSuffix(int Characters, int Segments)
{
    /// <summary>Nothing added: a name the service only reads, such as a job's source blob.</summary>
    public static PathSuffix None => default;

    /// <summary>
    /// The most that <paramref name="paths"/>, each built from <paramref name="name"/>, add to it,
    /// plus <paramref name="margin"/>.
    /// </summary>
    public static PathSuffix Longest(string name, PathSuffix margin, params IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var longest = margin;
        foreach (var path in paths)
        {
            if (!path.Contains(name, StringComparison.Ordinal))
            {
                throw new ArgumentException($"The path '{path}' is not built from '{name}'.", nameof(paths));
            }

            longest = new(
                Math.Max(longest.Characters, margin.Characters + path.Length - name.Length),
                Math.Max(longest.Segments, margin.Segments + path.Count(c => c == '/') - name.Count(c => c == '/')));
        }

        return longest;
    }
}
