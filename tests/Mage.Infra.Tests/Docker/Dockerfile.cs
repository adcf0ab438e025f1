namespace Mage.Infra.Tests.Docker;

/// <summary>
/// A Dockerfile split into instructions (continuations joined, comments dropped) and stages.
/// Enough of the format to check what can be checked without a Docker engine.
/// </summary>
internal sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerInstruction> instructions) => Instructions = instructions;

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    /// <summary>Global ARGs (before the first FROM) with their defaults.</summary>
    public IReadOnlyDictionary<string, string> GlobalArgs =>
        Instructions.TakeWhile(i => i.Keyword != "FROM").Where(i => i.Keyword == "ARG")
            .Select(i => i.Arguments.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1].Trim().Trim('"') : "", StringComparer.Ordinal);

    public IReadOnlyList<DockerStage> Stages
    {
        get
        {
            var stages = new List<DockerStage>();
            foreach (var instruction in Instructions)
            {
                if (instruction.Keyword == "FROM")
                {
                    var words = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    var name = words.Length >= 3 && words[^2].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[^1] : null;
                    stages.Add(new DockerStage(words[0], name, []));
                }
                else if (stages.Count > 0)
                {
                    stages[^1].Instructions.Add(instruction);
                }
            }

            return stages;
        }
    }

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            current += line;
            if (!string.IsNullOrWhiteSpace(current))
            {
                var trimmed = current.Trim();
                var space = trimmed.IndexOfAny([' ', '\t']);
                instructions.Add(space < 0
                    ? new DockerInstruction(trimmed.ToUpperInvariant(), "")
                    : new DockerInstruction(trimmed[..space].ToUpperInvariant(), trimmed[(space + 1)..].Trim()));
            }

            current = "";
        }

        return new Dockerfile(instructions);
    }
}
