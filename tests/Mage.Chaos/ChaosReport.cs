using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mage.Chaos;

/// <summary>
/// What a chaos run measured and which invariants it broke (<see cref="Violations"/>; empty means
/// it passed). Filled by <see cref="ChaosRun"/>; written as JSON and as a markdown table. Not thread-safe.
/// </summary>
internal sealed class ChaosReport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public required ChaosSettings Settings { get; init; }

    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;

    public double WallSeconds { get; set; }

    public int Images { get; set; }

    public int CorruptImages { get; set; }

    public int Kills { get; set; }

    /// <summary>Kills of a worker holding a shard message that another worker then started again; at least one, or the run fails.</summary>
    public int KillsMidShard { get; set; }

    public int Restarts { get; set; }

    public List<int> OutageSeconds { get; } = [];

    public long RowsExpected { get; set; }

    public long RowsFound { get; set; }

    public long RowsDuplicated { get; set; }

    public long ErrorRows { get; set; }

    public double? JobSeconds { get; set; }

    public double? RecoverySeconds { get; set; }

    /// <summary>Copies sent beyond the first of each good message (job, generate, edit, and the first shards').</summary>
    public int DuplicateMessages { get; set; }

    /// <summary>Good messages sent, every copy counted.</summary>
    public int GoodMessagesSent { get; set; }

    /// <summary>How many of <see cref="GoodMessagesSent"/> a worker received (logged as started); all, or the run fails.</summary>
    public int GoodMessagesDelivered { get; set; }

    public int MalformedSent { get; set; }

    public int MalformedRecorded { get; set; }

    public int StormUploads { get; set; }

    public int StormOverwrites { get; set; }

    public int StormDeletes { get; set; }

    public int StormCorrupt { get; set; }

    public int UploadRecords { get; set; }

    public int UploadErrors { get; set; }

    public int Events { get; set; }

    public int EventIds { get; set; }

    public int EventCopies { get; set; }

    public Dictionary<string, double> PeakRssMiB { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> ExitCodes { get; } = new(StringComparer.Ordinal);

    public List<string> Violations { get; } = [];

    public bool Passed => Violations.Count == 0;

    public void Violation(string text) => Violations.Add(text);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToMarkdown()
    {
        static string F(double? v) => v is { } x ? x.ToString("F1", CultureInfo.InvariantCulture) : "-";
        var rss = PeakRssMiB.Count == 0 ? "-" : $"{PeakRssMiB.Values.Max():F0} MiB max ({string.Join(", ", PeakRssMiB.Select(p => $"{p.Key} {p.Value:F0}"))})";
        var rows = new (string, string)[]
        {
            ("workers", $"{Settings.Workers} (lease {Settings.LeaseSeconds} s), {Restarts} restarts"),
            ("images (corrupt)", $"{Images} ({CorruptImages}), shards of {Settings.ShardSize}"),
            ("kills (mid-shard, shard redone)", $"{Kills} ({KillsMidShard})"),
            ("outages", OutageSeconds.Count == 0 ? "-" : string.Join(" + ", OutageSeconds.Select(s => $"{s} s"))),
            ("rows expected / found / duplicated", $"{RowsExpected} / {RowsFound} / {RowsDuplicated} ({ErrorRows} error rows)"),
            ("job completed after", $"{F(JobSeconds)} s"),
            ("recovery after the last fault", $"{F(RecoverySeconds)} s (everything settled)"),
            ("duplicate messages sent", $"{DuplicateMessages}; good messages delivered {GoodMessagesDelivered} of {GoodMessagesSent}"),
            ("malformed messages (recorded)", $"{MalformedSent} ({MalformedRecorded})"),
            ("upload storm", $"{StormUploads} uploads ({StormOverwrites} overwrites, {StormCorrupt} corrupt), {StormDeletes} deletes; {UploadRecords} records, {UploadErrors} error records for the last versions"),
            ("events (distinct ids, extra copies)", $"{Events} ({EventIds}, {EventCopies})"),
            ("peak RSS (VmHWM)", rss),
            ("exit codes at the end", string.Join(", ", ExitCodes.Select(e => $"{e.Key} {e.Value}"))),
            ("wall time", $"{F(WallSeconds)} s"),
            ("violations", Violations.Count == 0 ? "none" : $"{Violations.Count}"),
        };
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Chaos run of {StartedAt:yyyy-MM-dd HH:mm} UTC: {(Passed ? "passed" : "FAILED")}");
        text.AppendLine();
        text.AppendLine("| measure | value |");
        text.AppendLine("| --- | --- |");
        foreach (var (measure, value) in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {measure} | {value} |");
        }

        foreach (var violation in Violations)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- VIOLATION: {violation}");
        }

        return text.ToString();
    }

    /// <summary>Writes <c>report.json</c> and <c>report.md</c> into <paramref name="folder"/>.</summary>
    public async Task WriteAsync(string folder, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.json"), ToJson(), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.md"), ToMarkdown(), cancellationToken).ConfigureAwait(false);
    }
}
