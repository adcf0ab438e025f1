namespace Mage.Inference.Tests;

/// <summary>Paths of the committed test fixtures (copied next to the test assembly).</summary>
internal static class Fixtures
{
    public static string TinyPackage => Path.Combine(AppContext.BaseDirectory, "fixtures", "mage-tiny");

    /// <summary>Copies the tiny package to a fresh temporary folder that the caller may alter.</summary>
    public static TempFolder CopyOfTinyPackage()
    {
        var temp = new TempFolder();
        foreach (var file in Directory.GetFiles(TinyPackage))
        {
            File.Copy(file, Path.Combine(temp.Path, System.IO.Path.GetFileName(file)));
        }

        return temp;
    }
}
