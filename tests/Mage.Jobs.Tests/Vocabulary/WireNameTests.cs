using System.Text.Json;
using System.Text.RegularExpressions;
using Mage.Inference;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Vocabulary;

/// <summary>
/// The wire names are a contract with every sender and reader of messages and records: written
/// out by hand here, and held to the table in docs/operations.md.
/// </summary>
public sealed partial class WireNameTests
{
    [Fact]
    public void Every_jobs_enum_has_the_documented_names()
    {
        Assert.Equal(["inpaint", "outpaint", "uncrop", "generate"], WireNames.All<RequestKind>());
        Assert.Equal(["completed", "failed", "skipped", "gone", "committed", "alreadyCommitted", "alreadyCounted", "ignored", "rejected", "running"], WireNames.All<WorkOutcome>());
        Assert.Equal(["completed", "failed"], WireNames.All<RecordStatus>());
        Assert.Equal(["listing", "running", "completed", "failed"], WireNames.All<JobState>());
        Assert.Equal(["invalidMessage", "invalidRequest", "invalidName", "missing", "empty", "notAnImage", "unsupported", "tooLarge", "corrupt", "notAllowed", "outputInUse", "nameTooLong"], WireNames.All<ErrorReason>());
        Assert.Equal(["jobs", "shards", "edits", "generate"], WireNames.All<WorkQueue>());
        Assert.Equal(["embeddings", "tokens"], WireNames.All<JobKind>());
        Assert.Equal(["exact", "pytorch", "fast"], WireNames.All<PrecisionMode>());
        Assert.Equal(["exhaustive", "heuristic", "default"], WireNames.All<ConvAlgorithmSearch>());
        Assert.Equal(["queued", "running", "completed", "failed"], WireNames.All<RequestState>());
    }

    [Fact]
    public void The_docs_table_lists_exactly_the_names_of_the_code()
    {
        var text = File.ReadAllText(RepoPaths.Full("docs/operations.md"));
        var table = text[text.IndexOf("## Wire names", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var rows = table.Split('\n')
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| concept", StringComparison.Ordinal) && !l.StartsWith("| ---", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .ToDictionary(cells => cells[1], cells => Quoted().Matches(cells[3]).Select(m => m.Groups[1].Value).ToArray());

        Assert.Equal(WireNames.All<JobKind>(), rows["job kind"]);
        Assert.Equal(WireNames.All<FeaturePooling>(), rows["pooling"]);
        Assert.Equal(WireNames.All<PreprocessMode>(), rows["preprocessing"]);
        Assert.Equal(WireNames.All<RequestKind>(), rows["request kind"]);
        Assert.Equal(WireNames.All<RecordStatus>(), rows["record status"]);
        Assert.Equal(WireNames.All<WorkOutcome>(), rows["work outcome"]);
        Assert.Equal(WireNames.All<JobState>(), rows["job state"]);
        Assert.Equal(WireNames.All<ErrorReason>(), rows["error reason"]);
        Assert.Equal(WireNames.All<WorkQueue>(), rows["work queue"]);
        Assert.Equal(WireNames.All<PrecisionMode>(), rows["precision mode"]);
        Assert.Equal(WireNames.All<ConvAlgorithmSearch>(), rows["convolution algorithm search"]);
        Assert.Equal(WireNames.All<RequestState>(), rows["request state"]);
        Assert.Equal(12, rows.Count);
    }

    [Theory]
    [InlineData(ImageDecodeFailure.Empty, "empty")]
    [InlineData(ImageDecodeFailure.NotAnImage, "notAnImage")]
    [InlineData(ImageDecodeFailure.Unsupported, "unsupported")]
    [InlineData(ImageDecodeFailure.TooLarge, "tooLarge")]
    [InlineData(ImageDecodeFailure.Corrupt, "corrupt")]
    public void Every_image_failure_has_an_error_reason(ImageDecodeFailure failure, string name)
    {
        Assert.Equal(name, WireNames.Of(ErrorReasons.From(failure)));
        Assert.Equal(5, Enum.GetValues<ImageDecodeFailure>().Length); // a new failure needs a row here and a reason
    }

    [Fact]
    public void Row_errors_read_reason_colon_message()
    {
        Assert.Equal("missing: uploads/a.png does not exist.", ErrorReasons.Format(ErrorReason.Missing, "uploads/a.png does not exist."));
    }

    [Fact]
    public void Records_write_the_wire_names()
    {
        var record = new RequestRecord("r1", RecordStatus.Failed, RequestKind.Uncrop, [], null, null, null, ErrorReason.TooLarge, "too big");
        using var json = JsonDocument.Parse(JsonDefaults.ToDocument(record).ToString());

        Assert.Equal("failed", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("uncrop", json.RootElement.GetProperty("kind").GetString());
        Assert.Equal("tooLarge", json.RootElement.GetProperty("reason").GetString());
        Assert.Equal("too big", json.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public void Status_documents_keep_their_state_strings()
    {
        // A status.json written before the enums must still load, and load to the same state.
        var old = """{ "jobId": "j1", "state": "running", "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z", "pooling": "cls", "preprocess": "square" }""";
        var status = JsonSerializer.Deserialize<JobStatus>(old, JsonDefaults.Documents)!;

        Assert.Equal(JobState.Running, status.State);
        Assert.Equal(FeaturePooling.Cls, status.Pooling);
        Assert.Equal(PreprocessMode.Square, status.Preprocess);
        Assert.Contains("\"state\": \"running\"", JsonDefaults.ToDocument(status).ToString(), StringComparison.Ordinal);
    }

    [GeneratedRegex("`([A-Za-z]+)`")]
    private static partial Regex Quoted();
}
