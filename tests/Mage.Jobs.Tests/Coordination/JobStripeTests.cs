using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;

namespace Mage.Jobs.Tests.Coordination;

public sealed class JobStripeTests
{
    private static readonly DateTimeOffset Started = new(2026, 1, 2, 3, 4, 0, TimeSpan.Zero);

    private static JobStatus Running(int shardsTotal, int stripes, long imagesTotal) => new()
    {
        JobId = "j1",
        State = JobState.Running,
        CreatedAt = Started,
        UpdatedAt = Started,
        StartedAt = Started,
        ShardsTotal = shardsTotal,
        ImagesTotal = imagesTotal,
        Stripes = stripes,
        DoneShards = Convert.ToBase64String(new byte[(shardsTotal + 7) / 8]),
    };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 1)]
    [InlineData(31, 1)]
    [InlineData(32, 2)]
    [InlineData(1000, 62)]
    [InlineData(15_625, 64)] // a million images in shards of 64
    [InlineData(156_250, 64)]
    public void Stripe_count_grows_with_the_shards_up_to_the_maximum(int shards, int stripes) =>
        Assert.Equal(stripes, JobStripe.CountFor(shards));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 3)]
    [InlineData(64, 64)]
    [InlineData(1000, 64)]
    [InlineData(1001, 7)]
    public void Every_shard_belongs_to_exactly_one_stripe_and_the_sizes_add_up(int shardsTotal, int stripes)
    {
        var owners = new int[shardsTotal];
        for (var i = 0; i < stripes; i++)
        {
            var mine = Enumerable.Range(0, shardsTotal).Where(n => JobStripe.IndexOf(n, stripes) == i).ToList();
            Assert.Equal(mine.Count, JobStripe.ShardsOf(i, stripes, shardsTotal));
            foreach (var n in mine)
            {
                owners[n]++;
            }
        }

        Assert.All(owners, o => Assert.Equal(1, o));
    }

    [Fact]
    public void Counting_a_shard_sets_its_bit_in_its_own_stripe_only()
    {
        var stripe = JobStripe.Empty(2, 4, Started).WithShard(6, imagesOk: 60, imagesFailed: 4, shardFailed: false, Started.AddSeconds(5));

        Assert.True(stripe.IsCounted(6));
        Assert.False(stripe.IsCounted(2));
        Assert.False(stripe.IsCounted(5)); // another stripe's shard, whose local bit would be the same
        Assert.Equal([6], stripe.CountedShards());
        Assert.Equal((1, 0, 60L, 4L), (stripe.ShardsDone, stripe.ShardsFailed, stripe.ImagesDone, stripe.ImagesFailed));
        var job = Running(10, 4, 100);
        Assert.False(stripe.IsCompleteIn(job));

        var full = stripe.WithShard(2, 0, 64, shardFailed: true, Started.AddSeconds(6));
        Assert.True(full.IsCompleteIn(job)); // shards 2 and 6 of 10 in 4 stripes
        Assert.False(full.IsCompleteIn(job with { State = JobState.Listing })); // more shards may join it while the job lists
        Assert.False(full.IsCompleteIn(job with { ShardsTotal = 11 })); // shard 10 is the stripe's too
        Assert.Equal([2, 6], full.CountedShards());
        Assert.Equal(Started.AddSeconds(6), full.UpdatedAt);
    }

    [Fact]
    public void Metadata_round_trips_and_incomplete_metadata_reads_as_none()
    {
        var stripe = JobStripe.Empty(5, 64, Started).WithShard(69, 64, 0, shardFailed: false, Started.AddSeconds(1.5));

        var metadata = stripe.ToMetadata();

        Assert.Equal(stripe, JobStripe.FromMetadata(metadata));
        Assert.Null(JobStripe.FromMetadata(null));
        metadata.Remove("imagesdone");
        Assert.Null(JobStripe.FromMetadata(metadata));
    }

    [Fact]
    public void Folding_every_stripe_completes_the_job_with_every_shard_counted_once()
    {
        const int shards = 10, stripes = 3;
        var now = Started.AddSeconds(40);
        var striped = Running(shards, stripes, 100);
        var parts = Enumerable.Range(0, stripes).Select(i => JobStripe.Empty(i, stripes, Started)).ToArray();
        for (var n = 0; n < shards; n++)
        {
            var failed = n == 7;
            var i = JobStripe.IndexOf(n, stripes);
            parts[i] = parts[i].WithShard(n, failed ? 0 : 10, failed ? 10 : 0, failed, now);
        }

        foreach (var part in parts)
        {
            Assert.True(part.IsCompleteIn(striped));
            Assert.False(striped.IsStripeFolded(part.Index));
            striped = striped.WithStripe(part, now);
            Assert.True(striped.IsStripeFolded(part.Index));
        }

        // ten shards of ten images, shard 7 failed as a whole
        Assert.Equal((9, 1, 90L, 10L), (striped.ShardsDone, striped.ShardsFailed, striped.ImagesDone, striped.ImagesFailed));
        Assert.All(Enumerable.Range(0, shards), n => Assert.True(striped.IsShardCounted(n)));
        Assert.False(striped.IsShardCounted(shards));
        Assert.Equal(JobState.Completed, striped.State);
        Assert.Equal(now, striped.CompletedAt);
    }

    [Fact]
    public void The_status_adds_the_stripes_not_folded_yet_and_skips_those_it_already_counts()
    {
        const int shards = 6, stripes = 2;
        var stripe0 = JobStripe.Empty(0, stripes, Started)
            .WithShard(0, 10, 0, false, Started.AddSeconds(10)).WithShard(2, 10, 0, false, Started.AddSeconds(10)).WithShard(4, 9, 1, false, Started.AddSeconds(10));
        var stripe1 = JobStripe.Empty(1, stripes, Started).WithShard(3, 10, 0, false, Started.AddSeconds(20));
        var status = Running(shards, stripes, 60).WithStripe(stripe0, Started.AddSeconds(12));

        // Listed before the document was read: stripe 0 still listed, already folded.
        var view = status.WithUnfolded([stripe0, stripe1]);

        Assert.Equal(JobState.Running, view.State);
        Assert.Equal((4, 39L, 1L), (view.ShardsDone, view.ImagesDone, view.ImagesFailed));
        Assert.Equal([true, false, true, true, true, false], Enumerable.Range(0, shards).Select(view.IsShardCounted));
        Assert.Equal(Started.AddSeconds(20), view.UpdatedAt);
        Assert.Equal(2.0, view.ImagesPerSecond); // 40 images in the 20 s to the latest count
        Assert.Equal(10.0, view.EtaSeconds);     // 20 images left at 2 per second
        Assert.Same(status, status.WithUnfolded([stripe0]));
    }

    [Fact]
    public void A_finished_status_is_its_document_and_a_listing_one_adds_its_stripes_without_an_eta()
    {
        var stripe = JobStripe.Empty(0, 1, Started).WithShard(0, 10, 0, false, Started.AddSeconds(1));
        var completed = Running(4, 1, 40) with { State = JobState.Completed };
        var listing = Running(1, 1, 10) with { State = JobState.Listing };

        Assert.Same(completed, completed.WithUnfolded([stripe]));
        var view = listing.WithUnfolded([stripe]);
        Assert.Equal((JobState.Listing, 1, 10L), (view.State, view.ShardsDone, view.ImagesDone)); // every shard listed so far done: still listing
        Assert.Equal(10.0, view.ImagesPerSecond);
        Assert.Null(view.EtaSeconds); // the total is not known yet
    }

    [Fact]
    public void Folding_every_stripe_of_a_job_still_listing_counts_them_but_does_not_complete_it()
    {
        var listing = Running(2, 2, 20) with { State = JobState.Listing };
        var now = Started.AddSeconds(5);

        var folded = listing.WithStripe(JobStripe.Empty(0, 2, now).WithShard(0, 10, 0, false, now), now)
            .WithStripe(JobStripe.Empty(1, 2, now).WithShard(1, 10, 0, false, now), now);

        Assert.Equal((JobState.Listing, 2, 20L), (folded.State, folded.ShardsDone, folded.ImagesDone));
        Assert.Null(folded.CompletedAt);
        Assert.Equal(JobState.Completed, (listing with { State = JobState.Running }).WithStripe(JobStripe.Empty(0, 2, now).WithShard(0, 10, 0, false, now), now)
            .WithStripe(JobStripe.Empty(1, 2, now).WithShard(1, 10, 0, false, now), now).State);
    }
}
