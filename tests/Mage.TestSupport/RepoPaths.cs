namespace Mage.TestSupport;

/// <summary>Paths inside the repository, found by walking up from the test assembly to Mage.sln. Thread-safe.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The folder holding Mage.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The full path of <paramref name="relative"/>, a '/'-separated path from the repository root.</summary>
    public static string Full(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mage.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Mage.sln above {AppContext.BaseDirectory}.");
    }
}
