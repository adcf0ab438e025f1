namespace Mage.Infra.Tests.Bicep;

/// <summary>
/// Builds and lints every .bicep file under infra/bicep once (two CLI runs with --pattern, which
/// keeps the suite fast) and owns the temp output folder.
/// </summary>
public sealed class BicepPatternRunFixture : IAsyncLifetime
{
    private const string Pattern = "infra/bicep/**/*.bicep";

    public string OutDir { get; } = Directory.CreateTempSubdirectory("mage-bicep-all-").FullName;

    internal BicepResult Build { get; private set; } = null!;

    internal BicepResult Lint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Build = await BicepCli.RunAsync(["build", "--pattern", Pattern, "--outdir", OutDir]);
        Lint = await BicepCli.RunAsync(["lint", "--pattern", Pattern]);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(OutDir, recursive: true);
        return Task.CompletedTask;
    }
}
