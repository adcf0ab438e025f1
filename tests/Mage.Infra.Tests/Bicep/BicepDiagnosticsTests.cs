namespace Mage.Infra.Tests.Bicep;

/// <summary>Every .bicep file builds and lints with no errors and no warnings (bicepconfig.json).</summary>
public sealed class BicepDiagnosticsTests(BicepPatternRunFixture run) : IClassFixture<BicepPatternRunFixture>
{
    public static TheoryData<string> BicepFiles() => new(RelativeBicepFiles());

    private static List<string> RelativeBicepFiles() =>
        Directory.EnumerateFiles(RepoPaths.Full("infra/bicep"), "*.bicep", SearchOption.AllDirectories)
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

    [Fact]
    public void Build_and_lint_exit_cleanly_with_no_diagnostics_at_all()
    {
        Assert.True(run.Build.ExitCode == 0, run.Build.ToString());
        Assert.True(run.Lint.ExitCode == 0, run.Lint.ToString());
        Assert.Empty(run.Build.Diagnostics);
        Assert.Empty(run.Lint.Diagnostics);
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Each_file_compiles_to_arm_json_without_diagnostics(string file)
    {
        var relativeToBicep = Path.GetRelativePath("infra/bicep", file);
        Assert.True(File.Exists(Path.Combine(run.OutDir, Path.ChangeExtension(relativeToBicep, ".json"))), $"{file} produced no JSON.");
        var full = RepoPaths.Full(file);
        Assert.DoesNotContain(run.Build.Diagnostics, d => d.StartsWith(full + "(", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Lint.Diagnostics, d => d.StartsWith(full + "(", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Diagnostics_are_detected_at_all()
    {
        // Guards the tests above: a file with a known warning must produce a diagnostic line,
        // or an output-format change in the CLI would make them pass vacuously.
        var dir = Directory.CreateTempSubdirectory("mage-bicep-canary-").FullName;
        try
        {
            var file = Path.Combine(dir, "canary.bicep");
            await File.WriteAllTextAsync(file, "param unused string\n");
            var result = await BicepCli.RunAsync(["lint", file]);
            Assert.Contains(result.Diagnostics, d => d.StartsWith(file + "(", StringComparison.Ordinal) && d.Contains("no-unused-params", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
