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
}
