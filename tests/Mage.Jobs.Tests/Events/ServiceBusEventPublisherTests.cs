using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Mage.Jobs.Events;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mage.Jobs.Tests.Events;

public sealed class ServiceBusEventPublisherTests
{
    [Fact]
    public async Task Publishes_a_structured_cloud_event_with_a_deterministic_id()
    {
        var sender = new CapturingSender();
        var publisher = new ServiceBusEventPublisher(sender, NullLogger<ServiceBusEventPublisher>.Instance);
        var data = new MageEventData("job-7", null, RecordStatus.Completed, ["results/jobs/job-7/manifest.json"]);
        var first = MageEvent.Create(MageEventTypes.JobCompleted, "jobs/job-7", "job-7", data, new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var retried = MageEvent.Create(MageEventTypes.JobCompleted, "jobs/job-7", "job-7", data, DateTimeOffset.UnixEpoch);
        var other = MageEvent.Create(MageEventTypes.JobCompleted, "jobs/job-8", "job-8", data, DateTimeOffset.UnixEpoch);

        await publisher.PublishAsync(first);
        await publisher.PublishAsync(retried);
        await publisher.PublishAsync(other);

        Assert.Equal(3, sender.Sent.Count);
        var message = sender.Sent[0];
        Assert.Equal(64, message.MessageId.Length);
        Assert.Equal(message.MessageId, sender.Sent[1].MessageId); // same occurrence, same id: duplicate detection drops it
        Assert.NotEqual(message.MessageId, sender.Sent[2].MessageId);
        Assert.Equal("mage.job.completed", message.Subject);
        Assert.Equal("application/cloudevents+json; charset=utf-8", message.ContentType);
        Assert.Equal("jobs/job-7", message.ApplicationProperties["cloudEvents_subject"]);

        using var body = JsonDocument.Parse(message.Body.ToMemory());
        var root = body.RootElement;
        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal(message.MessageId, root.GetProperty("id").GetString());
        Assert.Equal("/mage", root.GetProperty("source").GetString());
        Assert.Equal("mage.job.completed", root.GetProperty("type").GetString());
        Assert.Equal("jobs/job-7", root.GetProperty("subject").GetString());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.Equal("2025-01-02T03:04:05+00:00", root.GetProperty("time").GetString());
        Assert.Equal("job-7", root.GetProperty("data").GetProperty("jobId").GetString());
        Assert.Equal("completed", root.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("results/jobs/job-7/manifest.json", root.GetProperty("data").GetProperty("outputs")[0].GetString());
        Assert.False(root.GetProperty("data").TryGetProperty("error", out _));
    }

    [Fact]
    public async Task Send_failures_propagate_so_the_message_is_retried()
    {
        var sender = new CapturingSender { Fail = true };
        var publisher = new ServiceBusEventPublisher(sender, NullLogger<ServiceBusEventPublisher>.Instance);
        var e = MageEvent.Create(MageEventTypes.UploadFailed, "uploads/x", "etag", new MageEventData(null, null, RecordStatus.Failed, [], "notAnImage: ..."), DateTimeOffset.UnixEpoch);

        var thrown = await Assert.ThrowsAsync<ServiceBusException>(() => publisher.PublishAsync(e));
        Assert.True(thrown.IsTransient);
    }

    /// <summary>The SDK's test seam: ServiceBusSender's members are virtual and it has a protected parameterless constructor.</summary>
    private sealed class CapturingSender : ServiceBusSender
    {
        public List<ServiceBusMessage> Sent { get; } = [];

        public bool Fail { get; init; }

        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            if (Fail)
            {
                throw new ServiceBusException(isTransient: true, "The namespace is busy.", reason: ServiceBusFailureReason.ServiceBusy);
            }

            Sent.Add(message);
            return Task.CompletedTask;
        }
    }
}
