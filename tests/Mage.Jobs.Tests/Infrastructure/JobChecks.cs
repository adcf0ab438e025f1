using System.Text.Json;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;
using Mage.Jobs.Events;
using Mage.Jobs.Outputs;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>What the listing tests check of a bulk job run through a <see cref="MageTestHost"/>.</summary>
internal static class JobChecks
{
    /// <summary>Runs every shard message now queued (once each).</summary>
    public static async Task ProcessAllShardsAsync(MageTestHost host)
    {
        foreach (var shard in await host.DrainAsync(host.Storage.ShardsQueue))
        {
            await host.Get<ProcessShardService>().ProcessAsync(shard);
        }
    }

    /// <summary>
    /// Completed with the expected totals, one manifest of <paramref name="shardsTotal"/> parts, one
    /// completion event, no stripes left, and every name in exactly one row. The job's output prefix
    /// is <c>jobs/{jobId}/</c> of the results container.
    /// </summary>
    public static async Task AssertCompletedOnceAsync(MageTestHost host, string jobId, string[] names, int shardsTotal)
    {
        var status = (await host.Get<JobStatusStore>().GetAsync(jobId))!.Value.Status;
        Assert.Equal((JobState.Completed, names.Length, (long)names.Length, 0L), (status.State, status.ImagesTotal, status.ImagesDone, status.ImagesFailed));
        Assert.Equal((shardsTotal, shardsTotal, 0), (status.ShardsTotal, status.ShardsDone, status.ShardsFailed));
        Assert.True(status.Enqueued);

        var results = host.Container(host.Storage.ResultsContainer);
        var rows = new List<string>();
        foreach (var part in await host.ListAsync(host.Storage.ResultsContainer, $"jobs/{jobId}/out/"))
        {
            using var stream = (await results.GetBlobClient(part).DownloadContentAsync()).Value.Content.ToStream();
            rows.AddRange((await ParquetTable.ReadAsync<EmbeddingRow>(stream)).Select(r => r.Name!));
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
        using var manifest = JsonDocument.Parse((await results.GetBlobClient($"jobs/{jobId}/manifest.json").DownloadContentAsync()).Value.Content);
        Assert.Equal(shardsTotal, manifest.RootElement.GetProperty("parts").GetArrayLength());
        var events = (await host.DrainAsync(host.Storage.EventsQueue)).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("type").GetString());
        Assert.Equal([MageEventTypes.JobCompleted], events);
        Assert.Empty(await host.ListAsync(host.Storage.JobsContainer, ResultsLayout.JobStripesFolder(jobId)));
    }
}
