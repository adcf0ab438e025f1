using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Options;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Tests.BulkJobs;

public sealed class JobMessageParserTests
{
    private static readonly LimitSettings Limits = new();

    /// <summary>The deployment these tests parse for: photos and uploads may be read, results and archive written.</summary>
    private static readonly StorageSettings Storage = new() { SourceContainers = "photos, uploads", OutputContainers = "results,embeddings" };

    private static JobParseResult Parse(string json, LimitSettings? limits = null) =>
        JobMessageParser.Parse(json, limits ?? Limits, Storage);

    private static string Refused(string json, LimitSettings? limits = null)
    {
        var result = Parse(json, limits);
        Assert.False(result.IsValid, $"accepted: {json}");
        Assert.Null(result.Spec);
        Assert.NotNull(result.Error);
        return result.Error;
    }

    [Fact]
    public void Prefix_job_takes_the_defaults()
    {
        var result = Parse("""{ "jobId": "j1", "source": { "container": "photos", "prefix": "2024/" } }""");

        Assert.True(result.IsValid, result.Error);
        Assert.Null(result.Error);
        Assert.Equal("j1", result.JobId);
        Assert.Equal(
            new JobSpec("j1", "photos", "2024/", null, null, "results", "jobs/j1/", new JobRecipe(JobKind.Embeddings, FeaturePooling.Linprobe, false, PreprocessMode.Linprobe), 256),
            result.Spec);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("key")]
    [InlineData("aad:6f1c0d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f")]
    public void The_caller_is_optional_and_carried_into_the_spec(string? caller)
    {
        var member = caller is null ? "" : $"\"caller\": \"{caller}\", ";

        var spec = Parse($$"""{ {{member}}"jobId": "j1", "source": { "container": "photos" } }""").Spec;

        Assert.Equal(caller, spec!.Caller);
    }

    [Theory]
    [InlineData("operator")]
    [InlineData("aad:someone")]
    [InlineData("AAD:6f1c0d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f")]
    public void A_caller_of_another_shape_is_refused_naming_it(string caller)
    {
        var error = Refused($$"""{ "caller": "{{caller}}", "jobId": "j1", "source": { "container": "photos" } }""");

        Assert.StartsWith($"caller '{caller}' must be 'key' or 'aad:'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(64)]
    public void A_list_range_outside_the_ranges_a_job_may_have_is_refused(int range)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "listRange": {{range}} }""");

        Assert.Equal($"listRange {range} must be between 0 and 63; the service sets it on the messages of a job listed in ranges.", error);
    }

    [Fact]
    public void A_list_range_is_carried_into_the_spec()
    {
        Assert.Equal(63, Parse("""{ "jobId": "j1", "source": { "container": "photos" }, "listRange": 63 }""").Spec!.ListRange);
        Assert.Null(Parse("""{ "jobId": "j1", "source": { "container": "photos" } }""").Spec!.ListRange);
    }

    [Fact]
    public void Source_without_prefix_or_blobs_is_the_whole_container()
    {
        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos" } }""").Spec;

        Assert.NotNull(spec);
        Assert.Equal("", spec.SourcePrefix);
        Assert.Null(spec.Blobs);
    }

    [Fact]
    public void Default_shard_size_is_capped_by_the_limit()
    {
        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos" } }""", new LimitSettings { MaxShardSize = 100 }).Spec;

        Assert.NotNull(spec);
        Assert.Equal(100, spec.ShardSize);
    }

    [Fact]
    public void Default_shard_size_is_the_documented_256_under_a_larger_limit()
    {
        // docs/operations.md shows "shardSize": 256 as the default; --shard-size's help says the same.
        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos" } }""", new LimitSettings { MaxShardSize = 4096 }).Spec;

        Assert.NotNull(spec);
        Assert.Equal(256, spec.ShardSize);
    }

    [Fact]
    public void Blob_list_job_keeps_the_list_and_every_option()
    {
        var result = Parse("""
            {
              "jobId": "Run_2.b-7",
              "source": { "container": "photos", "blobs": ["a.jpg", "dir/b.png"] },
              "output": { "container": "embeddings", "prefix": "runs/7" },
              "pooling": "cls",
              "normalize": true,
              "preprocess": "square",
              "shardSize": 17
            }
            """);

        Assert.True(result.IsValid, result.Error);
        var spec = result.Spec!;
        Assert.Equal(new[] { "a.jpg", "dir/b.png" }, spec.Blobs);
        // The list compares by reference in the record's equality, so it is checked above and carried over here.
        Assert.Equal(
            new JobSpec("Run_2.b-7", "photos", null, spec.Blobs, null, "embeddings", "runs/7/", new JobRecipe(JobKind.Embeddings, FeaturePooling.Cls, true, PreprocessMode.Square), 17),
            spec);
    }

    [Theory]
    [InlineData("linprobe", "linprobe", FeaturePooling.Linprobe, PreprocessMode.Linprobe)]
    [InlineData("cls", "square", FeaturePooling.Cls, PreprocessMode.Square)]
    [InlineData("mean", "none", FeaturePooling.Mean, PreprocessMode.None)]
    public void Pooling_and_preprocess_names(string pooling, string preprocess, FeaturePooling expectedPooling, PreprocessMode expectedPreprocess)
    {
        var spec = Parse($$"""{ "jobId": "j1", "source": { "container": "photos" }, "pooling": "{{pooling}}", "preprocess": "{{preprocess}}" }""").Spec;

        Assert.NotNull(spec);
        Assert.Equal(expectedPooling, spec.Recipe.Pooling);
        Assert.Equal(expectedPreprocess, spec.Recipe.Preprocess);
    }

    [Theory]
    [InlineData(null, JobKind.Embeddings)]
    [InlineData("\"embeddings\"", JobKind.Embeddings)]
    [InlineData("\"tokens\"", JobKind.Tokens)]
    public void Kind_defaults_to_embeddings(string? kind, JobKind expected)
    {
        var member = kind is null ? "" : $", \"kind\": {kind}";
        var spec = Parse($$"""{ "jobId": "j1", "source": { "container": "photos" }{{member}} }""").Spec;

        Assert.NotNull(spec);
        Assert.Equal(expected, spec.Recipe.Kind);
    }

    [Fact]
    public void An_unknown_kind_is_refused_by_name()
    {
        var result = Parse("""{ "jobId": "j1", "source": { "container": "photos" }, "kind": "pixels" }""");

        Assert.False(result.IsValid);
        Assert.Contains("kind", result.Error, StringComparison.Ordinal);
        Assert.Contains("pixels", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Shard_size_at_the_limit_is_accepted()
    {
        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos" }, "shardSize": 256 }""").Spec;

        Assert.NotNull(spec);
        Assert.Equal(256, spec.ShardSize);
    }

    [Theory]
    [InlineData("""{ "source": { "container": "photos" } }""")]
    [InlineData("""{ "jobId": "", "source": { "container": "photos" } }""")]
    [InlineData("""{ "jobId": "..", "source": { "container": "photos" } }""")]
    [InlineData("""{ "jobId": "a/b", "source": { "container": "photos" } }""")]
    [InlineData("""{ "jobId": "a b", "source": { "container": "photos" } }""")]
    [InlineData("""{ "jobId": "0123456789012345678901234567890123456789012345678901234567890123x", "source": { "container": "photos" } }""")]
    public void Bad_job_id_is_refused_and_not_salvaged(string json)
    {
        var error = Refused(json);

        Assert.Contains("jobId", error, StringComparison.Ordinal);
        Assert.Null(Parse(json).JobId);
    }

    [Fact]
    public void Job_id_with_a_trailing_newline_is_refused()
    {
        var error = Refused("""{ "jobId": "j1\n", "source": { "container": "photos" } }""");

        Assert.Contains("jobId", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_source_is_refused()
    {
        var error = Refused("""{ "jobId": "j1" }""");

        Assert.StartsWith("source is required", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "jobId": "j1", "source": { "prefix": "a/" } }""", "source.container")]
    [InlineData("""{ "jobId": "j1", "source": { "container": "Photos" } }""", "source.container 'Photos'")]
    [InlineData("""{ "jobId": "j1", "source": { "container": "a--b" } }""", "source.container 'a--b'")]
    [InlineData("""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "container": "x" } }""", "output.container 'x'")]
    public void Bad_container_is_refused(string json, string expected)
    {
        Assert.Contains(expected, Refused(json), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "prefix": "a/", "blobs": ["a/b.jpg"] }""", "source has prefix and blobs; give one of prefix, blobs and list.")]
    [InlineData("""{ "prefix": "a/", "list": "names.txt" }""", "source has prefix and list; give one of prefix, blobs and list.")]
    [InlineData("""{ "blobs": ["a/b.jpg"], "list": "names.txt" }""", "source has blobs and list; give one of prefix, blobs and list.")]
    public void Two_ways_of_naming_the_images_are_refused(string source, string expected)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos", {{source.Trim('{', '}', ' ')}} } }""");

        Assert.Equal(expected, error);
    }

    [Fact]
    public void A_list_blob_is_kept_in_the_spec_and_its_name_checked()
    {
        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos", "list": "lists/day-1.txt" } }""").Spec!;
        Assert.Equal(("lists/day-1.txt", (string?)null, (IReadOnlyList<string>?)null), (spec.BlobList, spec.SourcePrefix, spec.Blobs));

        Assert.StartsWith("source.list: ", Refused("""{ "jobId": "j1", "source": { "container": "photos", "list": "../names.txt" } }"""), StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_blob_list_is_refused()
    {
        var error = Refused("""{ "jobId": "j1", "source": { "container": "photos", "blobs": [] } }""");

        Assert.Contains("source.blobs is empty", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_blobs_are_refused()
    {
        var error = Refused("""{ "jobId": "j1", "source": { "container": "photos", "blobs": ["a.jpg", "b.jpg", "a.jpg"] } }""");

        Assert.Contains("source.blobs", error, StringComparison.Ordinal);
        Assert.Contains("more than once", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_names_differing_only_in_case_are_not_duplicates()
    {
        // Blob names are case-sensitive in Azure storage.
        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos", "blobs": ["a.jpg", "A.jpg"] } }""").Spec;

        Assert.NotNull(spec);
        Assert.Equal(2, spec.Blobs!.Count);
    }

    [Fact]
    public void Blob_list_over_the_limit_is_refused()
    {
        var limits = new LimitSettings { MaxImagesPerJob = 2 };

        var error = Refused("""{ "jobId": "j1", "source": { "container": "photos", "blobs": ["a", "b", "c"] } }""", limits);

        // The message counts the images rather than naming source.blobs.
        Assert.Equal("The job lists 3 images; at most 2 are allowed per job.", error);
        Assert.True(Parse("""{ "jobId": "j1", "source": { "container": "photos", "blobs": ["a", "b"] } }""", limits).IsValid);
    }

    [Theory]
    [InlineData("""["ok.jpg", "../up.jpg"]""", "source.blobs[1]")]
    [InlineData("""["/abs.jpg"]""", "source.blobs[0]")]
    [InlineData("""["a\\b.jpg"]""", "source.blobs[0]")]
    [InlineData("""["a\u0007.jpg"]""", "source.blobs[0]")]
    [InlineData("""["a.jpg", ""]""", "source.blobs[1]")]
    [InlineData("""["a.jpg", null]""", "source.blobs[1]")]
    public void Hostile_blob_names_are_refused_by_index(string blobs, string expected)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos", "blobs": {{blobs}} } }""");

        Assert.StartsWith(expected + ":", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_name_longer_than_the_limit_is_left_to_its_row()
    {
        // Source names are only read: one too long fails its own row (nameTooLong), not the whole job.
        var limits = new LimitSettings { MaxBlobNameLength = 8 };

        var spec = Parse("""{ "jobId": "j1", "source": { "container": "photos", "blobs": ["123456789", "ok.png"] } }""", limits).Spec;

        Assert.NotNull(spec);
        Assert.Equal(["123456789", "ok.png"], spec.Blobs);
    }

    [Fact]
    public void Output_prefix_whose_paths_do_not_fit_Azure_is_refused_as_nameTooLong()
    {
        var longest = new string('p', BlobNames.MaxPathLength - ResultsLayout.JobPrefixSuffix.Characters);
        Assert.True(Parse($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "prefix": "{{longest}}/" } }""").IsValid);

        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "prefix": "{{longest}}p/" } }""");

        Assert.StartsWith("nameTooLong: output.prefix: ", error, StringComparison.Ordinal);
        Assert.Contains($"is {longest.Length + 1} characters long; at most {longest.Length} are accepted", error, StringComparison.Ordinal);

        var deep = string.Join('/', Enumerable.Repeat("d", 252));
        Assert.StartsWith("nameTooLong: output.prefix: ", Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "prefix": "{{deep}}" } }"""), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../x/")]
    [InlineData("a/../b/")]
    [InlineData("/a/")]
    [InlineData("a//b/")]
    public void Bad_source_prefix_is_refused(string prefix)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos", "prefix": "{{prefix}}" } }""");

        Assert.StartsWith("source.prefix:", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a/./b")]
    public void Bad_output_prefix_is_refused(string prefix)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "prefix": "{{prefix}}" } }""");

        Assert.StartsWith($"output.prefix '{prefix}'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pooling", "max")]
    [InlineData("pooling", "")]
    [InlineData("pooling", "Linprobe, Cls")]
    [InlineData("pooling", "0")]
    [InlineData("preprocess", "crop")]
    [InlineData("preprocess", "")]
    [InlineData("preprocess", "1")]
    public void Unknown_pooling_or_preprocess_is_refused_naming_it(string member, string name)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "{{member}}": "{{name}}" }""");

        // Only the member name: how an unknown name is reported may change with the wire-name enums.
        Assert.Contains(member, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void Shard_size_outside_one_to_the_limit_is_refused(int size)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "shardSize": {{size}} }""");

        Assert.Equal($"shardSize {size} must be between 1 and 256.", error);
    }

    [Fact]
    public void Unknown_member_is_refused_naming_it_and_the_id_is_salvaged()
    {
        var result = Parse("""{ "jobId": "j1", "source": { "container": "photos" }, "colour": "red" }""");

        Assert.False(result.IsValid);
        Assert.Contains("colour", result.Error, StringComparison.Ordinal);
        Assert.Equal("j1", result.JobId);
    }

    [Fact]
    public void Unknown_nested_member_is_refused()
    {
        var error = Refused("""{ "jobId": "j1", "source": { "container": "photos", "recursive": true } }""");

        Assert.Contains("recursive", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "jobId": "j1", "source": { "container": "photos" }, "shardSize": "10" }""", "shardSize")]
    [InlineData("""{ "jobId": "j1", "source": { "container": "photos" }, "normalize": "yes" }""", "normalize")]
    [InlineData("""{ "jobId": "j1", "source": { "container": "photos", "blobs": "a.jpg" } }""", "blobs")]
    [InlineData("""{ "jobId": "j1", "source": "photos" }""", "source")]
    public void Wrong_json_type_is_refused_naming_the_member(string json, string member)
    {
        var result = Parse(json);

        Assert.False(result.IsValid);
        Assert.StartsWith("The job message is not valid:", result.Error, StringComparison.Ordinal);
        Assert.Contains(member, result.Error, StringComparison.Ordinal);
        Assert.Equal("j1", result.JobId);
    }

    [Fact]
    public void Json_null_body_is_refused()
    {
        var result = Parse("null");

        Assert.False(result.IsValid);
        Assert.Equal("The job message is empty (null).", result.Error);
        Assert.Null(result.JobId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("""{ "jobId": "j1", """)]
    [InlineData("not json")]
    [InlineData("""["j1"]""")]
    public void Invalid_json_is_refused_without_an_id(string json)
    {
        var result = Parse(json);

        Assert.False(result.IsValid);
        Assert.StartsWith("The job message is not valid:", result.Error, StringComparison.Ordinal);
        Assert.Null(result.JobId);
    }

    [Fact]
    public void Valid_id_is_salvaged_when_the_rest_is_invalid()
    {
        var result = Parse("""{ "jobId": "j1", "source": { "container": "photos" }, "pooling": "max" }""");

        Assert.False(result.IsValid);
        Assert.Equal("j1", result.JobId);
    }

    [Fact]
    public void Id_of_the_wrong_json_type_is_not_salvaged()
    {
        var result = Parse("""{ "jobId": 17, "source": { "container": "photos" } }""");

        Assert.False(result.IsValid);
        Assert.Null(result.JobId);
    }

    [Theory]
    [InlineData("jobs")]
    [InlineData("models")]
    [InlineData("azure-webjobs-hosts")]
    [InlineData("results")]
    [InlineData("elsewhere")]
    public void A_source_outside_the_allowed_containers_is_refused_naming_the_field_and_the_list(string container)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "{{container}}" } }""");

        Assert.Equal($"notAllowed: source.container '{container}' is not a container this service reads from; allowed: photos, uploads.", error);
    }

    [Theory]
    [InlineData("jobs")]
    [InlineData("models")]
    [InlineData("uploads")]
    [InlineData("elsewhere")]
    public void An_output_outside_the_allowed_containers_is_refused(string container)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "container": "{{container}}" } }""");

        Assert.Equal($"notAllowed: output.container '{container}' is not a container this service writes to; allowed: results, embeddings.", error);
    }

    [Theory]
    [InlineData("uploads/cat.png/")]
    [InlineData("uploads/")]
    [InlineData("runs/_refused/")]
    [InlineData("_x/")]
    public void An_output_prefix_in_the_services_own_area_of_the_results_container_is_refused(string prefix)
    {
        var error = Refused($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "prefix": "{{prefix}}" } }""");

        Assert.StartsWith($"notAllowed: output '{prefix}' in 'results' is the service's own area", error, StringComparison.Ordinal);
        Assert.True(Parse($$"""{ "jobId": "j1", "source": { "container": "photos" }, "output": { "container": "embeddings", "prefix": "{{prefix}}" } }""").IsValid);
    }
}
