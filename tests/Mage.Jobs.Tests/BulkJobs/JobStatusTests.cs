using Mage.Jobs.BulkJobs;
using Mage.Jobs.Coordination;

namespace Mage.Jobs.Tests.BulkJobs;

public sealed class JobStatusTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 0, TimeSpan.Zero);

    private static JobStatus Running(int shardsTotal, long imagesTotal = 30) => new()
    {
        JobId = "j1",
        State = JobState.Running,
        CreatedAt = Created,
        UpdatedAt = Created,
        StartedAt = Created.AddSeconds(10),
        ShardsTotal = shardsTotal,
        ImagesTotal = imagesTotal,
        Stripes = shardsTotal,
    };

    /// <summary>Counts one shard the way a worker does: in its stripe (one shard per stripe here), folded in.</summary>
    private static JobStatus Count(JobStatus status, int shard, long imagesOk, long imagesFailed, bool shardFailed, DateTimeOffset now) =>
        status.WithStripe(JobStripe.Empty(shard, status.Stripes, now).WithShard(shard, imagesOk, imagesFailed, shardFailed, now), now);

    [Fact]
    public void New_status_has_no_shard_counted()
    {
        var status = Running(3);

        Assert.Equal("", status.DoneShards);
        Assert.False(status.IsShardCounted(0));
        Assert.False(status.IsShardCounted(2));
        Assert.False(status.IsShardCounted(1000));
    }

    [Fact]
    public void Counting_a_shard_sets_one_bit_and_counts()
    {
        var now = Created.AddSeconds(20);

        var status = Count(Running(3), 0, imagesOk: 9, imagesFailed: 1, shardFailed: false, now);

        Assert.Equal("AQ==", status.DoneShards); // base64 of the byte 0b0000_0001
        Assert.True(status.IsShardCounted(0));
        Assert.False(status.IsShardCounted(1));
        Assert.False(status.IsShardCounted(2));
        Assert.Equal(1, status.ShardsDone);
        Assert.Equal(0, status.ShardsFailed);
        Assert.Equal(9, status.ImagesDone);
        Assert.Equal(1, status.ImagesFailed);
        Assert.Equal(now, status.UpdatedAt);
        Assert.Equal(JobState.Running, status.State);
        Assert.Null(status.CompletedAt);
    }

    [Fact]
    public void Counting_a_shard_measures_throughput_since_the_start()
    {
        // Started at +10 s, now +20 s: 10 images in 10 s, 20 of 30 left.
        var status = Count(Running(3), 0, imagesOk: 9, imagesFailed: 1, shardFailed: false, Created.AddSeconds(20));

        Assert.Equal(1.0, status.ImagesPerSecond);
        Assert.Equal(20.0, status.EtaSeconds);
    }

    [Fact]
    public void Counting_a_shard_without_a_start_time_measures_from_creation()
    {
        var status = Running(3) with { StartedAt = null };

        var next = Count(status, 0, imagesOk: 8, imagesFailed: 0, shardFailed: false, Created.AddSeconds(4));

        Assert.Equal(2.0, next.ImagesPerSecond);
        Assert.Equal(11.0, next.EtaSeconds);
    }

    [Fact]
    public void Counting_a_shard_with_no_time_elapsed_leaves_the_rate_unknown()
    {
        var status = Count(Running(3), 0, imagesOk: 8, imagesFailed: 0, shardFailed: false, Created.AddSeconds(10));

        Assert.Null(status.ImagesPerSecond);
        Assert.Null(status.EtaSeconds);
    }

    [Fact]
    public void Failed_shard_counts_as_failed_and_its_images_as_given()
    {
        var status = Count(Running(3), 1, imagesOk: 0, imagesFailed: 10, shardFailed: true, Created.AddSeconds(20));

        Assert.Equal("Ag==", status.DoneShards); // 0b0000_0010
        Assert.Equal(0, status.ShardsDone);
        Assert.Equal(1, status.ShardsFailed);
        Assert.Equal(0, status.ImagesDone);
        Assert.Equal(10, status.ImagesFailed);
    }

    [Fact]
    public void Job_completes_when_every_shard_is_counted()
    {
        var done = Created.AddSeconds(40);

        var status = Count(Count(Running(3), 0, 10, 0, shardFailed: false, Created.AddSeconds(20)), 2, 0, 10, shardFailed: true, Created.AddSeconds(30));
        Assert.Equal("BQ==", status.DoneShards); // 0b0000_0101
        Assert.Equal(JobState.Running, status.State);

        status = Count(status, 1, 10, 0, shardFailed: false, done);

        Assert.Equal("Bw==", status.DoneShards); // 0b0000_0111
        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(done, status.CompletedAt);
        Assert.Equal(0.0, status.EtaSeconds);
        Assert.Equal(2, status.ShardsDone);
        Assert.Equal(1, status.ShardsFailed);
        Assert.Equal(20, status.ImagesDone);
        Assert.Equal(10, status.ImagesFailed);
        Assert.True(status.IsShardCounted(0) && status.IsShardCounted(1) && status.IsShardCounted(2));
    }

    [Fact]
    public void Shards_past_the_first_byte_grow_the_bitmap()
    {
        var status = Count(Running(10), 9, 1, 0, shardFailed: false, Created.AddSeconds(20));

        Assert.Equal("AAI=", status.DoneShards); // bytes 0x00, 0x02: bit 9 is bit 1 of the second byte
        Assert.True(status.IsShardCounted(9));
        Assert.False(status.IsShardCounted(1));
        Assert.False(status.IsShardCounted(8));
        Assert.False(status.IsShardCounted(17));
    }

    [Theory]
    [InlineData(JobState.Completed, true)]
    [InlineData(JobState.Failed, true)]
    [InlineData(JobState.Running, false)]
    [InlineData(JobState.Listing, false)]
    public void Final_states(JobState state, bool final) => Assert.Equal(final, state.IsFinal());
}
