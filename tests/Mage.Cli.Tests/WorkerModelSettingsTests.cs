namespace Mage.Cli.Tests;

/// <summary>
/// <c>mage worker</c> reads the model from the app's <c>Mage__Model__*</c> settings, with
/// <c>--model</c>, <c>--device</c> and <c>--precision</c> overriding them, and says at start which
/// package it loaded, in which precision, on which device. Before the fix it read the command line
/// only and silently ran the bundled random-weight package. Real worker processes (the settings
/// are environment variables), each with its own containers and queues.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WorkerModelSettingsTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task The_worker_loads_the_package_of_Mage__Model__PackagePath_in_its_precision()
    {
        var package = CopyOfTinyPackage();
        var environment = StorageNames.Environment("model-env");
        environment["Mage__Model__PackagePath"] = package;
        environment["Mage__Model__Device"] = "cpu";
        environment["Mage__Model__Precision"] = "Fast";

        var worker = await RunOnceAsync(environment);

        Assert.Contains($"from {package} (fast precision) on CPU", worker.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(LocalModel.BundledNotice, worker.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_command_line_overrides_Mage__Model__()
    {
        var environment = StorageNames.Environment("model-cli");
        environment["Mage__Model__PackagePath"] = temp["no-such-package"];
        environment["Mage__Model__Precision"] = "Fast";

        var worker = await RunOnceAsync(environment, "--model", Cli.TinyPackage, "--device", "cpu", "--precision", "exact");

        Assert.Contains($"from {Path.GetFullPath(Cli.TinyPackage)} (exact precision) on CPU", worker.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_package_setting_or_option_the_worker_says_it_runs_the_bundled_package()
    {
        var worker = await RunOnceAsync(StorageNames.Environment("model-none"), "--device", "cpu");

        Assert.Contains(LocalModel.BundledNotice, worker.Error, StringComparison.Ordinal);
        Assert.Contains($"from {Path.GetFullPath(Path.Combine(Cli.BuildOutput, "models", "mage-tiny"))} (exact precision)", worker.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blob_prefix_is_refused_with_exit_2_and_what_to_do_instead()
    {
        var environment = StorageNames.Environment("model-blob");
        environment["Mage__Model__BlobPrefix"] = "mage-vitb/v1";

        await using var worker = MageProcess.Start(environment, "worker", "--once", "--connection", azurite.ConnectionString, "--device", "cpu");

        Assert.Equal(2, await worker.WaitForExitAsync(RunTimeout));
        Assert.Contains("Mage__Model__BlobPrefix 'mage-vitb/v1'", worker.Error, StringComparison.Ordinal);
        Assert.Contains("Mage__Model__PackagePath", worker.Error, StringComparison.Ordinal);
    }

    /// <summary>Runs <c>mage worker --once</c> with <paramref name="args"/> over an empty account and checks it exits 0.</summary>
    private async Task<CliRun> RunOnceAsync(Dictionary<string, string> environment, params string[] args)
    {
        await using var worker = MageProcess.Start(environment, ["worker", "--once", "--connection", azurite.ConnectionString, .. args]);
        var code = await worker.WaitForExitAsync(RunTimeout);
        Assert.True(code == 0, $"exit {code}\n{worker}");
        return new CliRun(code, worker.Out, worker.Error);
    }

    private string CopyOfTinyPackage()
    {
        var copy = temp["tiny-copy"];
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Cli.TinyPackage))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }
}
