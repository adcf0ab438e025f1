using System.Globalization;
using System.Text.Json;

namespace Mage.Benchmarks.Coordination;

/// <summary>
/// <c>coordination</c>: what a large bulk job costs in storage coordination, against a real
/// storage account (Azurite in bench/run_coordination.sh), through the app's own services. Writes
/// <c>commit.json</c> (<see cref="CommitScenario"/> per concurrency) and <c>submit.json</c>
/// (<see cref="SubmitScenario"/>) to <c>--out</c> and prints a table.
/// </summary>
internal static class CoordinationBench
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args)
    {
        string? connection = null, output = null, package = null;
        var scenario = "all";
        var label = "run";
        var source = "coordsource";
        int[] concurrency = [1, 4, 16, 64, 256];
        int perWorker = 4, minShards = 64, shardSize = 64, limitSeconds = 180;
        int[] blobs = [100_000];
        int[] stripes = [-1, 0];
        int[] ranges = [0];
        var folders = 0;
        static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--connection": connection = args[++i]; break;
                case "--out": output = args[++i]; break;
                case "--package": package = args[++i]; break;
                case "--scenario": scenario = args[++i]; break;
                case "--label": label = args[++i]; break;
                case "--source": source = args[++i]; break;
                case "--concurrency": concurrency = [.. args[++i].Split(',').Select(Int)]; break;
                case "--stripes": stripes = [.. args[++i].Split(',').Select(s => s == "auto" ? -1 : Int(s))]; break;
                case "--shards-per-worker": perWorker = Int(args[++i]); break;
                case "--min-shards": minShards = Int(args[++i]); break;
                case "--blobs": blobs = [.. args[++i].Split(',').Select(Int)]; break;
                case "--shard-size": shardSize = Int(args[++i]); break;
                case "--ranges": ranges = [.. args[++i].Split(',').Select(Int)]; break;
                case "--folders": folders = Int(args[++i]); break;
                case "--time-limit": limitSeconds = Int(args[++i]); break;
                default: await Console.Error.WriteLineAsync($"unknown argument {args[i]}"); return 2;
            }
        }

        if (connection is null || output is null || package is null || scenario is not ("all" or "commit" or "submit"))
        {
            await Console.Error.WriteLineAsync("usage: coordination --connection STR --out DIR --package DIR [--scenario all|commit|submit] [--label NAME] " +
                "[--concurrency 1,4,16,64,256] [--stripes auto,0] [--shards-per-worker 4] [--min-shards 64] [--time-limit 180] [--blobs 10000,100000] [--shard-size 64] [--source NAME] [--folders 100] [--ranges 1,2,4,8]");
            return 2;
        }

        Directory.CreateDirectory(output);
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        // One source container per size (and layout), so each job lists exactly its blobs; the first size keeps the container's old name.
        string SourceOf(int n) => (n == blobs[0] ? source : $"{source}-{n}") + (folders > 0 ? $"-f{folders}" : "");
        var sources = blobs.Select(SourceOf).ToList();
        await using var host = await CoordinationHost.StartAsync(connection, package, sources, null, cancel.Token).ConfigureAwait(false);
        var machine = new { cores = Environment.ProcessorCount, cpu = CpuName(), os = Environment.OSVersion.ToString(), runtime = Environment.Version.ToString() };

        if (scenario is "all" or "commit")
        {
            var results = new List<CommitResult>();
            Console.WriteLine("   N  stripes shards  writes/s  ok/s   conflict  p50 ms   p99 ms  shards/s  req/shard  redeliv  exact");
            foreach (var k in stripes)
            {
                foreach (var n in concurrency)
                {
                    var r = await CommitScenario.RunAsync(host, n, Math.Max(minShards, n * perWorker), k, TimeSpan.FromSeconds(limitSeconds), cancel.Token).ConfigureAwait(false);
                    results.Add(r);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Concurrency,4} {r.Stripes,8} {r.Counted,6} {r.StatusWritesPerSecond,9:F1} {r.StatusWritesOkPerSecond,6:F1} {r.ConflictRate,8:P1} {r.LatencyP50Ms,8:F1} {r.LatencyP99Ms,8:F1} {r.ShardsPerSecond,8:F1} {r.RequestsPerShard,9:F1} {r.Redeliveries,8} {r.CountsExact && r.Completed && r.CompletionEvents == 1,6}"));
                }
            }

            await WriteAsync(Path.Combine(output, "commit.json"), new { label, date = DateTimeOffset.UtcNow, machine, results }).ConfigureAwait(false);
        }

        if (scenario is "all" or "submit")
        {
            // Each count of listing ranges (0: the services' default) on a host of its own, every size on each.
            var results = new List<SubmitResult>();
            foreach (var k in ranges)
            {
                await using var rangeHost = k == 0 ? null : await CoordinationHost.StartAsync(connection, package, sources,
                    new Dictionary<string, string?> { ["Mage:Limits:ListRanges"] = k.ToString(CultureInfo.InvariantCulture) }, cancel.Token).ConfigureAwait(false);
                foreach (var n in blobs)
                {
                    var r = await SubmitScenario.RunAsync(rangeHost ?? host, connection, SourceOf(n), n, folders, shardSize, cancel.Token).ConfigureAwait(false) with { Ranges = k };
                    results.Add(r);
                    await WriteAsync(Path.Combine(output, "submit.json"), new { label, date = DateTimeOffset.UtcNow, machine, results }).ConfigureAwait(false); // after each run, so a later failure keeps it
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"submit {r.Blobs} blobs in {r.Folders} folders, ranges {(k == 0 ? "default" : k)}: bare listing {r.ListSeconds:F2} s ({r.ListBlobsPerSecond:F0}/s); first shard {r.FirstShardSeconds:F2} s; running (listing ended) after {r.RunningSeconds:F2} s, {r.ListedPerSecond:F0} blobs/s ({r.Shards} shard lists, {r.Deliveries} deliveries), all enqueued {r.SubmitSeconds:F2} s"));
                }
            }

            await WriteAsync(Path.Combine(output, "submit.json"), new { label, date = DateTimeOffset.UtcNow, machine, results }).ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task WriteAsync(string path, object value)
    {
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(value, Json)).ConfigureAwait(false);
        Console.WriteLine($"wrote {path}");
    }

    private static string CpuName()
    {
        const string cpuinfo = "/proc/cpuinfo";
        return File.Exists(cpuinfo)
            ? File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
    }
}
