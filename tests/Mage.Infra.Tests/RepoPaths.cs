namespace Mage.Infra.Tests;

/// <summary>Paths inside the repository, found by walking up from the test assembly to Mage.sln.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    public static string Bicep => Path.Combine(Root, "infra", "bicep");

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
