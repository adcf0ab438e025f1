using Mage.Jobs.Hosting;
using Mage.Jobs.Options;
using Microsoft.Extensions.Configuration;

namespace Mage.Jobs.Tests.Hosting;

/// <summary>The engine a deployment runs gets the image limits its configuration names.</summary>
public sealed class ModelHostTests
{
    [Fact]
    public void Engine_options_carry_the_configured_image_limits()
    {
        // Mage__Limits__AllowTruncatedJpeg in the environment is this key ("__" reads as ":").
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Mage:Limits:MaxImageBytes"] = "1000",
                ["Mage:Limits:MaxImagePixels"] = "2000",
                ["Mage:Limits:AllowTruncatedJpeg"] = "true",
            })
            .Build();
        var limits = configuration.GetSection(LimitSettings.Section).Get<LimitSettings>()!;

        var options = ModelHost.CreateEngineOptions(limits);

        Assert.Equal(1000, options.Limits.MaxBytes);
        Assert.Equal(2000, options.Limits.MaxPixels);
        Assert.True(options.Limits.AllowTruncatedJpeg);
    }

    [Fact]
    public void Truncated_jpegs_are_refused_unless_configured()
    {
        Assert.False(new LimitSettings().AllowTruncatedJpeg);
        Assert.False(ModelHost.CreateEngineOptions(new LimitSettings()).Limits.AllowTruncatedJpeg);
    }
}
