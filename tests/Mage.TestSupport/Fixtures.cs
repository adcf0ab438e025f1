namespace Mage.TestSupport;

/// <summary>
/// The committed test fixtures. This project copies tests/fixtures/mage-tiny next to the
/// assembly of every project that references it, so the paths hold in every test project.
/// </summary>
public static class Fixtures
{
    /// <summary>The tiny random-weight model package (tests/fixtures/mage-tiny), read-only.</summary>
    public static string TinyPackage => Path.Combine(AppContext.BaseDirectory, "fixtures", "mage-tiny");

    /// <summary>Copies the tiny package to a fresh temporary folder that the caller may alter and disposes.</summary>
    public static TempFolder CopyOfTinyPackage()
    {
        var temp = new TempFolder();
        foreach (var file in Directory.GetFiles(TinyPackage))
        {
            File.Copy(file, temp[Path.GetFileName(file)]);
        }

        return temp;
    }
}
