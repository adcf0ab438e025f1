using Mage.Inference.Tests.Numpy;

namespace Mage.Inference.Tests.Packages;

/// <summary>Fresh exports of the tiny architecture through tools/export/export.py, as a user runs it.</summary>
internal static class TinyExport
{
    /// <summary>Exports seeded random weights (seed 0) at <paramref name="precision"/> into a folder of <paramref name="temp"/>; returns the package folder.</summary>
    public static string Run(TempFolder temp, string precision)
    {
        var folder = temp["tiny-" + precision];
        Python.Run(
            "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
            RepoPaths.Full("tools/export/export.py"), "--random-init", "--arch", "tiny", "--seed", "0", "--precision", precision, "--out", folder);
        return folder;
    }
}
