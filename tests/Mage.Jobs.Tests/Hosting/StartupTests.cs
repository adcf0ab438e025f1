using Mage.Jobs.Hosting;
using Mage.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Mage.Jobs.Tests.Hosting;

[Collection(AzuriteCollection.Name)]
public sealed class StartupTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Model_settings_need_exactly_one_source()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Model:PackagePath"] = null }));
        Assert.Contains("exactly one of Mage:Model:PackagePath", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_device_and_container_names_fail_at_start()
    {
        await Assert.ThrowsAsync<OptionsValidationException>(() => MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Model:Device"] = "tpu" }));
        await Assert.ThrowsAsync<OptionsValidationException>(() => MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { ["Mage:Storage:ResultsContainer"] = "Bad_Name" }));
    }

    [Theory]
    [InlineData("Mage:Model:AllowTf32", "true", "AllowTf32")]
    [InlineData("Mage:Storage:ResultContainer", "results", "ResultContainer")]
    [InlineData("Mage:Limits:MaxImageByte", "1000", "MaxImageByte")]
    [InlineData("Mage:Api:TrustAuthHeader", "true", "TrustAuthHeader")]
    public async Task A_setting_the_app_does_not_have_fails_the_start_and_is_named(string key, string value, string name)
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => MageTestHost.StartAsync(azurite, new Dictionary<string, string?> { [key] = value }));
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Package_is_downloaded_from_the_models_container_and_hash_checked()
    {
        await using var seed = await MageTestHost.StartAsync(azurite);
        var models = seed.Container(seed.Storage.ModelsContainer);
        await models.CreateAsync();
        foreach (var file in Directory.GetFiles(Fixtures.TinyPackage))
        {
            await models.GetBlobClient($"mage-tiny/v1/{Path.GetFileName(file)}").UploadAsync(file);
        }

        var cache = Path.Combine(Path.GetTempPath(), "mage-test-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var downloaded = await MageTestHost.StartAsync(azurite, new Dictionary<string, string?>
            {
                ["Mage:Model:PackagePath"] = null,
                ["Mage:Model:BlobPrefix"] = "mage-tiny/v1",
                ["Mage:Model:CacheFolder"] = cache,
                ["Mage:Storage:ModelsContainer"] = seed.Storage.ModelsContainer,
            });
            var engine = await downloaded.Get<IMageEngineSource>().GetEngineAsync();
            Assert.True(engine.Model.Package.HashesVerified);
            Assert.StartsWith(cache, engine.Model.Package.Folder, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}
