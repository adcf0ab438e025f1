using System.Text;
using System.Text.RegularExpressions;

namespace Mage.Infra.Tests.Docker;

/// <summary>
/// A .dockerignore file matched the way Docker matches it (moby's patternmatcher, documented on
/// "Dockerfile reference: .dockerignore file"): patterns are cleaned (leading '/' and './' and
/// trailing '/' dropped); '*' matches any run of characters except '/', '?' one character
/// except '/', '[...]' a character class, '\' escapes the next character, and '**' any number of
/// directories, zero included ('**/bin' matches 'bin' and 'a/b/bin'). A pattern that matches a
/// parent directory excludes everything below it. Rules apply in order and the last matching
/// rule wins; a rule starting with '!' re-includes. Immutable and thread-safe.
/// </summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Negate)> rules;

    private DockerIgnore(List<(Regex Pattern, bool Negate)> rules) => this.rules = rules;

    public static DockerIgnore Parse(string text)
    {
        var rules = new List<(Regex, bool)>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var negate = line.StartsWith('!');
            var pattern = Clean(negate ? line[1..].Trim() : line);
            if (pattern.Length > 0)
            {
                rules.Add((ToRegex(pattern), negate));
            }
        }

        return new DockerIgnore(rules);
    }

    /// <summary>Whether the build context leaves out <paramref name="path"/> (relative, '/'-separated).</summary>
    public bool Excludes(string path)
    {
        var cleaned = Clean(path);
        var parts = cleaned.Split('/');
        var excluded = false;
        foreach (var (pattern, negate) in rules)
        {
            // The path itself or any parent directory matching the pattern counts as a match.
            for (var n = parts.Length; n >= 1; n--)
            {
                if (pattern.IsMatch(string.Join('/', parts[..n])))
                {
                    excluded = !negate;
                    break;
                }
            }
        }

        return excluded;
    }

    private static string Clean(string pattern)
    {
        var p = pattern;
        while (p.StartsWith("./", StringComparison.Ordinal))
        {
            p = p[2..];
        }

        return p.Trim('/');
    }

    private static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                    }

                    // "**" at the end matches everything below; elsewhere any number of directories.
                    regex.Append(i + 1 == pattern.Length ? ".*" : "(.*/)?");
                    break;
                case '*':
                    regex.Append("[^/]*");
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        throw new FormatException($"Unclosed '[' in .dockerignore pattern '{pattern}'.");
                    }

                    // Regex.Escape leaves '-' alone, so ranges such as [a-z] keep working.
                    var set = pattern[(i + 1)..close];
                    var negated = set.StartsWith('^');
                    regex.Append(negated ? "[^" : "[").Append(Regex.Escape(negated ? set[1..] : set)).Append(']');
                    i = close;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    i++;
                    regex.Append(Regex.Escape(pattern[i].ToString()));
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
