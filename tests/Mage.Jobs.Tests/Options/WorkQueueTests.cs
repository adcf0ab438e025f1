using Mage.Jobs.Options;

namespace Mage.Jobs.Tests.Options;

public sealed class WorkQueueTests
{
    [Fact]
    public void Each_work_queue_has_its_setting()
    {
        var storage = new StorageSettings { JobsQueue = "a-jobs", ShardsQueue = "a-shards", EditsQueue = "a-edits", GenerateQueue = "a-gen", EventsQueue = "a-events" };

        Assert.Equal("a-jobs", storage.QueueName(WorkQueue.Jobs));
        Assert.Equal("a-shards", storage.QueueName(WorkQueue.Shards));
        Assert.Equal("a-edits", storage.QueueName(WorkQueue.Edits));
        Assert.Equal("a-gen", storage.QueueName(WorkQueue.Generate));
        Assert.Equal(["a-jobs", "a-shards", "a-edits", "a-gen", "a-events"], storage.AllQueueNames());
    }

    [Fact]
    public void The_defaults_are_the_documented_queue_names()
    {
        Assert.Equal(["mage-jobs", "mage-shards", "mage-edits", "mage-generate", "mage-events"], new StorageSettings().AllQueueNames());
    }

    [Fact]
    public void The_table_has_one_entry_per_queue_whose_setting_is_the_property_that_names_it()
    {
        Assert.Equal(Enum.GetValues<WorkQueue>(), WorkQueues.All.Select(e => e.Queue));
        var storage = new StorageSettings();
        foreach (var entry in WorkQueues.All)
        {
            var property = typeof(StorageSettings).GetProperty(entry.Setting);
            Assert.NotNull(property);
            Assert.Equal(property.GetValue(storage), entry.NameIn(storage));
            Assert.InRange(entry.Slots, 1, 64);
        }

        Assert.Equal(["job", "shard", "edit", "generate"], WorkQueues.All.Select(e => e.Label));
    }

    [Fact]
    public void A_queue_without_an_entry_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => WorkQueues.Of((WorkQueue)99));
        Assert.Contains("Unknown work queue", e.Message, StringComparison.Ordinal);
    }
}
