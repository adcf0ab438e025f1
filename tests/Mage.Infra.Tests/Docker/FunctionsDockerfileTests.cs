namespace Mage.Infra.Tests.Docker;

/// <summary>
/// src/Mage.Functions/Dockerfile and the root .dockerignore, checked without a Docker engine:
/// stages, base images, the non-root user, CUDA libraries, and that COPY sources exist.
/// </summary>
public sealed class FunctionsDockerfileTests
{
    private const string DockerfilePath = "src/Mage.Functions/Dockerfile";

    private static readonly Dockerfile Parsed = Dockerfile.Parse(File.ReadAllText(RepoPaths.Full(DockerfilePath)));

    private static DockerStage Final => Parsed.Stages[^1];

    [Fact]
    public void Builds_with_the_net10_sdk_and_runs_on_the_functions_isolated_net10_image()
    {
        Assert.Equal(2, Parsed.Stages.Count);
        var build = Parsed.Stages[0];
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", DefaultImage(build));
        Assert.Equal("build", build.Name);
        Assert.Contains(build.Instructions, i => i.Keyword == "RUN"
            && i.Arguments.Contains("dotnet publish src/Mage.Functions -c Release -r linux-x64 --self-contained false", StringComparison.Ordinal));
        Assert.Equal("mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0", DefaultImage(Final));
    }

    [Fact]
    public void Every_base_image_is_a_build_arg_so_a_release_can_pin_it_by_digest()
    {
        // Defaults are tags (a clean clone builds); a release passes name@sha256:<digest>.
        Assert.Equal("${SDK_IMAGE}", Parsed.Stages[0].BaseImage);
        Assert.Equal("${BASE_IMAGE}", Final.BaseImage);
        Assert.All(Parsed.Stages, stage => Assert.DoesNotContain("@sha256:", DefaultImage(stage), StringComparison.Ordinal));
    }

    [Fact]
    public void Final_stage_has_no_sdk_and_takes_only_the_publish_output_from_the_build()
    {
        Assert.DoesNotContain("sdk", DefaultImage(Final), StringComparison.Ordinal);
        var fromBuild = Final.Instructions.Where(i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=", StringComparison.Ordinal)).ToList();
        var copy = Assert.Single(fromBuild);
        Assert.Equal("--from=build /out /home/site/wwwroot", copy.Arguments);
    }

    [Fact]
    public void Runs_as_a_non_root_user_on_port_8080()
    {
        var user = Final.Instructions.Last(i => i.Keyword == "USER").Arguments;
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user.Split(':')[0]);
        Assert.Contains(Final.Instructions, i => i.Keyword == "EXPOSE" && i.Arguments == "8080");
        Assert.Contains("ASPNETCORE_URLS=http://+:8080", Env(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sets_the_functions_script_root_and_console_logging()
    {
        var env = Env();
        Assert.Contains("AzureWebJobsScriptRoot=/home/site/wwwroot", env, StringComparison.Ordinal);
        Assert.Contains("AzureFunctionsJobHost__Logging__Console__IsEnabled=true", env, StringComparison.Ordinal);
    }

    [Fact]
    public void Installs_the_cuda13_libraries_onnx_runtime_gpu_loads_and_cleans_apt_lists_in_the_same_layer()
    {
        var packages = Final.Instructions.Single(i => i.Keyword == "ARG" && i.Arguments.StartsWith("CUDA_PACKAGES=", StringComparison.Ordinal)).Arguments;
        foreach (var package in new[] { "cuda-cudart-13-0", "libcublas-13-0", "libcurand-13-0", "libcudnn9-cuda-13" })
        {
            Assert.Contains(package, packages, StringComparison.Ordinal);
        }

        var install = Final.Instructions.Single(i => i.Keyword == "RUN" && i.Arguments.Contains("apt-get install", StringComparison.Ordinal));
        Assert.Contains("${CUDA_PACKAGES}", install.Arguments, StringComparison.Ordinal);
        Assert.Contains("--no-install-recommends", install.Arguments, StringComparison.Ordinal);
        Assert.Contains("rm -rf /var/lib/apt/lists/*", install.Arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_package_is_copied_to_models_mage_from_a_build_arg_whose_default_exists()
    {
        Assert.True(Parsed.GlobalArgs.TryGetValue("MODEL_DIR", out var modelDir));
        Assert.Equal("tests/fixtures/mage-tiny", modelDir);
        Assert.True(File.Exists(RepoPaths.Full($"{modelDir}/manifest.json")), $"{modelDir} has no manifest.json.");
        Assert.Contains(Final.Instructions, i => i.Keyword == "ARG" && i.Arguments == "MODEL_DIR");
        Assert.Contains(Final.Instructions, i => i.Keyword == "COPY" && i.Arguments == "${MODEL_DIR} /models/mage");
    }

    [Fact]
    public void Every_copy_source_from_the_context_exists_in_the_repository()
    {
        var copies = Parsed.Instructions.Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from=", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (var source in words[..^1])
            {
                var resolved = source == "${MODEL_DIR}" ? Parsed.GlobalArgs["MODEL_DIR"] : source;
                var path = RepoPaths.Full(resolved.TrimEnd('/'));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY source {source} does not exist ({path}).");
                Assert.False(DockerIgnored(resolved), $"COPY source {source} is excluded by .dockerignore.");
            }
        }
    }

    [Theory]
    [InlineData("tests/fixtures/mage-tiny/manifest.json", false)]
    [InlineData("src/Mage.Functions/Program.cs", false)]
    [InlineData("src/Mage.Functions/bin/Release/x.dll", true)]
    [InlineData("tools/export/export.py", true)]
    [InlineData("tests/Mage.Jobs.Tests/A.cs", true)]
    [InlineData("tools/export/mage_export/__pycache__/a.pyc", true)]
    [InlineData(".azure/dev/.env", true)]
    public void Dockerignore_sends_the_sources_and_fixtures_and_leaves_the_rest_out(string path, bool excluded)
    {
        Assert.Equal(excluded, DockerIgnored(path));
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_git_and_azd_state_out()
    {
        var rules = DockerIgnoreRules();
        foreach (var required in new[] { ".git", ".azure", "**/bin", "**/obj" })
        {
            Assert.Contains(required, rules);
        }
    }

    /// <summary>A stage's base image as built without build args: the global ARG's default.</summary>
    private static string DefaultImage(DockerStage stage)
    {
        var image = stage.BaseImage;
        if (!image.StartsWith("${", StringComparison.Ordinal) || !image.EndsWith('}'))
        {
            return image;
        }

        var arg = image[2..^1];
        Assert.True(Parsed.GlobalArgs.TryGetValue(arg, out var value), $"FROM {image} has no global ARG {arg} before the first FROM.");
        return value;
    }

    private static string Env() =>
        string.Join(' ', Final.Instructions.Where(i => i.Keyword == "ENV").Select(i => i.Arguments));

    private static List<string> DockerIgnoreRules() =>
        File.ReadAllLines(RepoPaths.Full(".dockerignore"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();

    private static bool DockerIgnored(string path) =>
        DockerIgnore.Parse(File.ReadAllText(RepoPaths.Full(".dockerignore"))).Excludes(path);
}
