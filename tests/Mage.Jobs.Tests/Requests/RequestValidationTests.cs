using Mage.Jobs.Storage;
using Mage.Inference;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Requests;

public sealed class RequestValidationTests
{
    private static readonly LimitSettings Limits = new();

    [Fact]
    public void Deserialize_reads_an_edit_request()
    {
        var request = MessageJson.Deserialize<EditMessage>(
            """{ "requestId": "r1", "kind": "inpaint", "source": { "container": "uploads", "name": "a.png" }, "boxes": [[1, 2, 3, 4]], "steps": 12, "temperature": 4.5, "seed": 18446744073709551615 }""",
            "message",
            out var error);

        Assert.Null(error);
        Assert.NotNull(request);
        Assert.Equal("r1", request.RequestId);
        Assert.Equal(RequestKind.Inpaint, request.Kind);
        Assert.Equal(new BlobRef("uploads", "a.png"), request.Source);
        Assert.Equal(new[] { 1, 2, 3, 4 }, request.Boxes![0]);
        Assert.Equal(12, request.Steps);
        Assert.Equal(4.5, request.Temperature);
        Assert.Equal(ulong.MaxValue, request.Seed);
        Assert.Null(request.Mask);
    }

    [Fact]
    public void Deserialize_matches_member_names_case_insensitively()
    {
        var request = MessageJson.Deserialize<GenerateMessage>("""{ "RequestId": "r1", "COUNT": 3 }""", "message", out var error);

        Assert.Null(error);
        Assert.Equal("r1", request?.RequestId);
        Assert.Equal(3, request?.Count);
    }

    [Fact]
    public void Deserialize_rejects_an_unknown_member()
    {
        var request = MessageJson.Deserialize<GenerateMessage>("""{ "requestId": "r1", "counts": 3 }""", "message", out var error);

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.StartsWith("The message is not valid:", error, StringComparison.Ordinal);
        Assert.Contains("counts", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "requestId": "r1", "count": "3" }""", "count")]
    [InlineData("""{ "requestId": "r1", "temperature": "1.5" }""", "temperature")]
    [InlineData("""{ "requestId": "r1", "seed": "7" }""", "seed")]
    [InlineData("""{ "requestId": "r1", "temperature": "NaN" }""", "temperature")]
    public void Deserialize_rejects_numbers_written_as_strings(string json, string member)
    {
        var request = MessageJson.Deserialize<GenerateMessage>(json, "message", out var error);

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.Contains(member, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_reports_a_json_null_body()
    {
        var request = MessageJson.Deserialize<EditMessage>("null", "message", out var error);

        Assert.Null(request);
        Assert.Equal("The message is empty (null).", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    public void Deserialize_reports_invalid_json(string json)
    {
        var request = MessageJson.Deserialize<EditMessage>(json, "message", out var error);

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.StartsWith("The message is not valid:", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edits/", "edits/r1/")]
    [InlineData("edits", "edits/r1/")]
    [InlineData("a/b/", "a/b/r1/")]
    [InlineData("", "r1/")]
    public void Target_default_prefix_makes_the_request_folder(string defaultPrefix, string folder)
    {
        var target = RequestValidation.Target("r1", null, "results", defaultPrefix, Limits, out var error, out _);

        Assert.Null(error);
        Assert.Equal(new RequestTarget("r1", "results", folder), target);
    }

    [Fact]
    public void Target_output_overrides_container_and_prefix()
    {
        var target = RequestValidation.Target("r-2", new OutputRequest("mine", "x/y"), "results", "edits/", Limits, out var error, out _);

        Assert.Null(error);
        Assert.Equal(new RequestTarget("r-2", "mine", "x/y/r-2/"), target);
    }

    [Fact]
    public void Target_output_with_only_a_container_keeps_the_default_prefix()
    {
        var target = RequestValidation.Target("r1", new OutputRequest("mine", null), "results", "generate/", Limits, out var error, out _);

        Assert.Null(error);
        Assert.Equal(new RequestTarget("r1", "mine", "generate/r1/"), target);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    public void Target_refuses_a_bad_request_id(string? requestId)
    {
        var target = RequestValidation.Target(requestId, null, "results", "edits/", Limits, out var error, out _);

        Assert.Null(target);
        Assert.NotNull(error);
        Assert.StartsWith($"requestId '{requestId}'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Results")]
    [InlineData("re")]
    [InlineData("-results")]
    public void Target_refuses_a_bad_container(string container)
    {
        var target = RequestValidation.Target("r1", new OutputRequest(container, null), "results", "edits/", Limits, out var error, out _);

        Assert.Null(target);
        Assert.Equal($"output.container '{container}' is not a valid container name.", error);
    }

    [Fact]
    public void Target_refuses_a_bad_default_container()
    {
        var target = RequestValidation.Target("r1", null, "Bad_Name", "edits/", Limits, out var error, out _);

        Assert.Null(target);
        Assert.NotNull(error);
        Assert.StartsWith("output.container 'Bad_Name'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../")]
    [InlineData("a/../b")]
    [InlineData("/abs/")]
    [InlineData("a//")]
    public void Target_refuses_a_bad_prefix(string prefix)
    {
        var target = RequestValidation.Target("r1", new OutputRequest(null, prefix), "results", "edits/", Limits, out var error, out _);

        Assert.Null(target);
        Assert.NotNull(error);
        Assert.StartsWith("output.prefix:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Target_refuses_a_prefix_whose_paths_do_not_fit_Azure_as_nameTooLong()
    {
        var longest = new string('p', BlobNames.MaxPathLength - ResultsLayout.RequestPrefixSuffix.Characters);
        Assert.NotNull(RequestValidation.Target("r1", new OutputRequest(null, longest), "results", "edits/", Limits, out _, out _));

        var target = RequestValidation.Target("r1", new OutputRequest(null, longest + "p"), "results", "edits/", Limits, out var error, out var reason);

        Assert.Null(target);
        Assert.Equal(ErrorReason.NameTooLong, reason);
        Assert.StartsWith("output.prefix: ", error, StringComparison.Ordinal);
        Assert.Contains($"is {longest.Length + 1} characters long; at most {longest.Length} are accepted", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Target_refuses_a_malformed_prefix_as_invalidRequest()
    {
        RequestValidation.Target("r1", new OutputRequest(null, "a/../b"), "results", "edits/", Limits, out _, out var reason);

        Assert.Equal(ErrorReason.InvalidRequest, reason);
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(64, 100.0)]
    [InlineData(12, 4.5)]
    public void Schedule_accepts_steps_and_temperature_in_range(int steps, double temperature)
    {
        Assert.Null(RequestValidation.Schedule(steps, temperature));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(65)]
    public void Schedule_refuses_steps_outside_one_to_max_steps(int steps)
    {
        Assert.Equal($"steps {steps} must be between 1 and 64.", RequestValidation.Schedule(steps, 1.0));
    }

    [Fact]
    public void Schedule_limits_are_the_library_s_own()
    {
        Assert.Null(RequestValidation.Schedule(MageDefaults.MaxSteps, MageDefaults.MaxTemperature));
        Assert.Equal("steps 65 must be between 1 and 64.", RequestValidation.Schedule(MageDefaults.MaxSteps + 1, 1.0));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-0.001)]
    [InlineData(100.001)]
    public void Schedule_refuses_a_temperature_outside_zero_to_one_hundred(double temperature)
    {
        var error = RequestValidation.Schedule(12, temperature);

        Assert.NotNull(error);
        Assert.StartsWith("temperature ", error, StringComparison.Ordinal);
        Assert.EndsWith("must be a finite number between 0 and 100.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_accepts_a_plain_reference()
    {
        Assert.Null(RequestValidation.Blob(new BlobRef("uploads", "dir/cat.png"), "source", Limits));
    }

    [Fact]
    public void Blob_refuses_a_missing_reference_naming_the_field()
    {
        var error = RequestValidation.Blob(null, "mask", Limits);

        Assert.NotNull(error);
        Assert.StartsWith("mask is required", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("UP")]
    [InlineData("a_b")]
    public void Blob_refuses_a_bad_container(string? container)
    {
        var error = RequestValidation.Blob(new BlobRef(container, "a.png"), "source", Limits);

        Assert.Equal($"source.container '{container}' is not a valid container name.", error);
    }

    // Every rule of a name is checked in BlobNamesTests; here, that Blob applies them and names the field.
    [Theory]
    [InlineData(null, "is empty")]
    [InlineData("a/../b.png", "'..' path segment")]
    [InlineData("/etc/passwd", "starts or ends with '/'")]
    [InlineData("a\nb.png", "control character U+000A")]
    [InlineData("a\\b.png", "backslash")]
    public void Blob_refuses_hostile_names(string? name, string reason)
    {
        var error = RequestValidation.Blob(new BlobRef("uploads", name), "source", Limits);

        Assert.NotNull(error);
        Assert.StartsWith("source.name: ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_refuses_a_name_longer_than_the_limit()
    {
        var atLimit = new string('a', 1024);
        var overLimit = new string('a', 1025);

        Assert.Null(RequestValidation.Blob(new BlobRef("uploads", atLimit), "source", Limits));
        Assert.Equal(
            "source.name: The blob name is 1025 characters long; at most 1024 are accepted.",
            RequestValidation.Blob(new BlobRef("uploads", overLimit), "source", Limits));
    }
}
