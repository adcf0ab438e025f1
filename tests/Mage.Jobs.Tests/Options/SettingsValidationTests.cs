using Mage.Jobs.Options;

namespace Mage.Jobs.Tests.Options;

/// <summary>The checks <c>ValidateDataAnnotations().ValidateOnStart()</c> runs on each settings section.</summary>
public sealed class SettingsValidationTests
{
    [Fact]
    public void Default_limits_are_valid()
    {
        var limits = new LimitSettings();

        Assert.Empty(OptionsValidation.Errors(limits));
        Assert.Equal(32L * 1024 * 1024, limits.MaxImageBytes);
        Assert.Equal(256, limits.MaxShardSize);
        Assert.Equal(1024, limits.MaxBlobNameLength);
    }

    [Theory]
    [InlineData(nameof(LimitSettings.MaxShardSize), 0)]
    [InlineData(nameof(LimitSettings.MaxShardSize), 4097)]
    [InlineData(nameof(LimitSettings.MaxGenerateCount), 4097)]
    [InlineData(nameof(LimitSettings.MaxBlobNameLength), 1025)]
    [InlineData(nameof(LimitSettings.ShardConcurrency), 0)]
    [InlineData(nameof(LimitSettings.ListPageSize), 5001)]
    [InlineData(nameof(LimitSettings.MaxOutpaintMargin), 4097)]
    public void Limit_out_of_range_is_refused_naming_it(string property, int value)
    {
        var limits = new LimitSettings();
        typeof(LimitSettings).GetProperty(property)!.SetValue(limits, value);

        var message = OptionsValidation.SingleError(limits, property);

        Assert.Contains(property, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_bytes_must_fit_in_an_int()
    {
        var message = OptionsValidation.SingleError(new LimitSettings { MaxImageBytes = int.MaxValue }, nameof(LimitSettings.MaxImageBytes));

        Assert.Contains(nameof(LimitSettings.MaxImageBytes), message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_api_settings_are_valid_and_trust_no_headers()
    {
        var api = new ApiSettings();

        Assert.Empty(OptionsValidation.Errors(api));
        Assert.False(api.TrustAuthHeaders);
    }

    [Fact]
    public void Default_storage_names_are_valid()
    {
        var storage = new StorageSettings();

        Assert.Empty(OptionsValidation.Errors(storage));
        Assert.Equal("uploads", storage.UploadsContainer);
        Assert.Equal("results", storage.ResultsContainer);
        Assert.Equal("mage-jobs", storage.JobsQueue);
        Assert.Equal("mage-events", storage.EventsQueue);
    }

    [Theory]
    [InlineData("Bad_Name")]
    [InlineData("ab")]
    [InlineData("a--b")]
    [InlineData("-results")]
    [InlineData("results-")]
    public void Bad_container_name_is_refused_naming_the_setting(string name)
    {
        var message = OptionsValidation.SingleError(new StorageSettings { ResultsContainer = name }, nameof(StorageSettings.ResultsContainer));

        Assert.StartsWith("ResultsContainer must be 3-63 lower-case letters", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_allow_lists_default_to_the_uploads_and_results_containers()
    {
        var storage = new StorageSettings { UploadsContainer = "photos", ResultsContainer = "vectors" };

        Assert.Equal(["photos"], storage.Sources);
        Assert.Equal(["vectors"], storage.Outputs);
        Assert.Equal(["a", "b"], new StorageSettings { SourceContainers = " a, ,b " }.Sources);
    }

    [Theory]
    [InlineData(nameof(StorageSettings.SourceContainers), "uploads,jobs")]
    [InlineData(nameof(StorageSettings.SourceContainers), "models")]
    [InlineData(nameof(StorageSettings.SourceContainers), "azure-webjobs-hosts")]
    [InlineData(nameof(StorageSettings.OutputContainers), "results,jobs")]
    [InlineData(nameof(StorageSettings.OutputContainers), "azure-webjobs-secrets")]
    public void The_services_own_containers_can_never_be_a_source_or_an_output(string setting, string list)
    {
        var storage = new StorageSettings();
        typeof(StorageSettings).GetProperty(setting)!.SetValue(storage, list);

        var message = OptionsValidation.SingleError(storage, setting);

        Assert.StartsWith($"{setting} names '", message, StringComparison.Ordinal);
        Assert.EndsWith("a container that holds the service's own state; it can never be a source or an output.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_uploads_container_can_not_be_an_output()
    {
        var message = OptionsValidation.SingleError(new StorageSettings { OutputContainers = "results,uploads" }, nameof(StorageSettings.OutputContainers));

        Assert.Contains("the uploads container 'uploads'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_queue_name_is_refused_naming_the_setting()
    {
        var message = OptionsValidation.SingleError(new StorageSettings { ShardsQueue = "Mage.Shards" }, nameof(StorageSettings.ShardsQueue));

        Assert.StartsWith("ShardsQueue must be", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_storage_name_is_refused()
    {
        var message = OptionsValidation.SingleError(new StorageSettings { JobsContainer = "" }, nameof(StorageSettings.JobsContainer));

        Assert.Equal("The JobsContainer field is required.", message);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("cpu")]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("cuda:15")]
    public void Model_with_a_package_path_and_a_known_device_is_valid(string device)
    {
        Assert.Empty(OptionsValidation.Errors(new ModelSettings { PackagePath = "/models/mage", Device = device }));
    }

    [Fact]
    public void Model_with_a_blob_prefix_is_valid()
    {
        var model = new ModelSettings { BlobPrefix = "mage-vit-base/v1" };

        Assert.Empty(OptionsValidation.Errors(model));
        Assert.Equal("auto", model.Device);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("CPU")]
    [InlineData("cuda:")]
    [InlineData("cuda:123")]
    [InlineData("cuda:0 ")]
    [InlineData("")]
    public void Model_with_an_unknown_device_is_refused_naming_the_setting(string device)
    {
        var message = OptionsValidation.SingleError(new ModelSettings { PackagePath = "/models/mage", Device = device }, nameof(ModelSettings.Device));

        Assert.Contains("Device", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", " ")]
    [InlineData("/models/mage", "mage/v1")]
    public void Model_needs_exactly_one_of_package_path_and_blob_prefix(string? packagePath, string? blobPrefix)
    {
        var message = OptionsValidation.SingleError(new ModelSettings { PackagePath = packagePath, BlobPrefix = blobPrefix }, nameof(ModelSettings.PackagePath), nameof(ModelSettings.BlobPrefix));

        Assert.Contains("Mage:Model:PackagePath", message, StringComparison.Ordinal);
        Assert.Contains("Mage:Model:BlobPrefix", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../models")]
    [InlineData("mage/../../etc")]
    [InlineData("/mage/v1")]
    public void Model_blob_prefix_must_be_a_relative_folder(string blobPrefix)
    {
        var message = OptionsValidation.SingleError(new ModelSettings { BlobPrefix = blobPrefix }, nameof(ModelSettings.BlobPrefix));

        Assert.Equal($"Mage:Model:BlobPrefix '{blobPrefix}' must be a relative folder without '..'.", message);
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(1025)]
    public void Model_fixed_transformer_batch_out_of_range_is_refused(int batch)
    {
        var message = OptionsValidation.SingleError(new ModelSettings { PackagePath = "/models/mage", FixedTransformerBatch = batch }, nameof(ModelSettings.FixedTransformerBatch));

        Assert.Equal("The field FixedTransformerBatch must be between -1 and 1024.", message);
    }

    [Theory]
    [InlineData("8;64")]
    [InlineData("auto,8")]
    [InlineData("")]
    [InlineData("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17")]
    public void Model_batch_buckets_that_are_not_auto_none_or_a_list_are_refused(string buckets)
    {
        var message = OptionsValidation.SingleError(new ModelSettings { PackagePath = "/models/mage", BatchBuckets = buckets }, nameof(ModelSettings.BatchBuckets));

        Assert.Equal(buckets.Length == 0 ? "The BatchBuckets field is required." : "Mage:Model:BatchBuckets must be auto, none or a comma list of up to 16 sizes such as 8,64.", message);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("none")]
    [InlineData("8, 64")]
    public void Model_batch_buckets_in_the_documented_forms_are_accepted(string buckets)
    {
        Assert.Empty(OptionsValidation.Errors(new ModelSettings { PackagePath = "/models/mage", BatchBuckets = buckets }));
    }

    [Fact]
    public void Default_events_go_to_the_storage_queue()
    {
        var events = new EventSettings();

        Assert.Empty(OptionsValidation.Errors(events));
        Assert.False(events.UseServiceBus);
        Assert.Equal("mage-events", events.Topic);
    }

    [Fact]
    public void Service_bus_namespace_host_name_is_valid()
    {
        var events = new EventSettings { ServiceBusNamespace = "mage-prod.servicebus.windows.net" };

        Assert.Empty(OptionsValidation.Errors(events));
        Assert.True(events.UseServiceBus);
    }

    [Theory]
    [InlineData("https://mage.servicebus.windows.net")]
    [InlineData("mage.servicebus.windows.net/topic")]
    [InlineData("-mage.servicebus.windows.net")]
    public void Service_bus_namespace_must_be_a_bare_host_name(string ns)
    {
        var message = OptionsValidation.SingleError(new EventSettings { ServiceBusNamespace = ns }, nameof(EventSettings.ServiceBusNamespace));

        Assert.StartsWith("Mage:Events:ServiceBusNamespace must be a host name", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_topic_is_required()
    {
        var message = OptionsValidation.SingleError(new EventSettings { Topic = "" }, nameof(EventSettings.Topic));

        Assert.Equal("The Topic field is required.", message);
    }
}
