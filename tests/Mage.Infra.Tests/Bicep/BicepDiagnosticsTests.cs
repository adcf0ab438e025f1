namespace Mage.Infra.Tests.Bicep;

/// <summary>Every .bicep file builds and lints with no errors and no warnings (bicepconfig.json).</summary>
public sealed class BicepDiagnosticsTests
{
    public static TheoryData<string> BicepFiles() => new(RelativeBicepFiles());

    private static List<string> RelativeBicepFiles() =>
        Directory.EnumerateFiles(RepoPaths.Bicep, "*.bicep", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(RepoPaths.Root, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void There_are_bicep_files_main_and_modules()
    {
        var files = RelativeBicepFiles();
        Assert.Contains("infra/bicep/main.bicep", files);
        Assert.Contains(files, f => f.StartsWith("infra/bicep/modules/", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Build_reports_no_diagnostics(string file)
    {
        var outDir = Directory.CreateTempSubdirectory("mage-bicep-build-").FullName;
        try
        {
            var result = await BicepCli.RunAsync(["build", RepoPaths.Full(file), "--outfile", Path.Combine(outDir, "out.json")]);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Empty(result.Diagnostics);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Lint_reports_no_diagnostics(string file)
    {
        var result = await BicepCli.RunAsync(["lint", RepoPaths.Full(file)]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public async Task Diagnostics_are_detected_at_all()
    {
        // Guards the two tests above: a file with a known warning must produce a diagnostic line,
        // or an output-format change in the CLI would make them pass vacuously.
        var dir = Directory.CreateTempSubdirectory("mage-bicep-canary-").FullName;
        try
        {
            var file = Path.Combine(dir, "canary.bicep");
            await File.WriteAllTextAsync(file, "param unused string\n");
            var result = await BicepCli.RunAsync(["lint", file]);
            Assert.Contains(result.Diagnostics, d => d.Contains("no-unused-params", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
