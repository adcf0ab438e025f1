using Mage.Inference.Packages;
using Xunit.Abstractions;

namespace Mage.Inference.Tests.Packages;

/// <summary>Writes what each golden check measured to the test output: the numbers the bounds are set from.</summary>
internal static class GoldenCheckLog
{
    public static void Write(ITestOutputHelper output, IEnumerable<GoldenCheckResult> checks)
    {
        foreach (var check in checks)
        {
            output.WriteLine($"{check.Name}: {check.Measured} (bound {check.Tolerance})");
        }
    }
}
