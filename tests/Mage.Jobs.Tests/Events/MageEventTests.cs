using System.Text.Json;
using Mage.Jobs.Events;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Events;

public sealed class MageEventTests
{
    private static readonly DateTimeOffset Time = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static readonly MageEventData JobData = new("j1", null, RecordStatus.Completed, ["results/jobs/j1/manifest.json"]);

    [Fact]
    public void Id_is_the_sha256_of_type_subject_and_version_key()
    {
        var e = MageEvent.Create("mage.job.completed", "jobs/j1", "j1", JobData, Time);

        // SHA-256 of "mage.job.completed\njobs/j1\nj1", computed with Python's hashlib.
        Assert.Equal("5ce85c4aa6573e574a4437d849b397a0dc5aacd4964dcd37fd1cfdb2ffd1e98d", e.Id);
    }

    [Fact]
    public void Same_type_subject_and_version_key_give_the_same_id()
    {
        var first = MageEvent.Create(MageEventTypes.UploadCompleted, "uploads/cat.jpg", "\"0x8DC1\"", JobData, Time);
        var retry = MageEvent.Create(MageEventTypes.UploadCompleted, "uploads/cat.jpg", "\"0x8DC1\"", JobData with { Outputs = [] }, Time.AddMinutes(5));

        Assert.Equal(first.Id, retry.Id);
    }

    [Theory]
    [InlineData(MageEventTypes.UploadFailed, "uploads/cat.jpg", "\"0x8DC1\"")]
    [InlineData(MageEventTypes.UploadCompleted, "uploads/dog.jpg", "\"0x8DC1\"")]
    [InlineData(MageEventTypes.UploadCompleted, "uploads/cat.jpg", "\"0x8DC2\"")]
    public void A_different_type_subject_or_version_key_gives_a_different_id(string type, string subject, string versionKey)
    {
        var original = MageEvent.Create(MageEventTypes.UploadCompleted, "uploads/cat.jpg", "\"0x8DC1\"", JobData, Time);

        var other = MageEvent.Create(type, subject, versionKey, JobData, Time);

        Assert.NotEqual(original.Id, other.Id);
    }

    [Theory]
    [InlineData("", "jobs/j1")]
    [InlineData("mage.job.completed", "")]
    public void Type_and_subject_are_required(string type, string subject)
    {
        Assert.Throws<ArgumentException>(() => MageEvent.Create(type, subject, "k", JobData, Time));
    }

    [Fact]
    public void Json_uses_the_cloudevents_member_names()
    {
        var e = MageEvent.Create(MageEventTypes.JobCompleted, "jobs/j1", "j1", JobData, Time);

        using var doc = JsonDocument.Parse(e.ToJsonBytes());
        var root = doc.RootElement;

        Assert.Equal(JsonValueKind.Object, root.GetProperty("data").ValueKind);
        var attributes = root.EnumerateObject()
            .Where(p => p.Name != "data")
            .ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["specversion"] = "1.0",
                ["id"] = "5ce85c4aa6573e574a4437d849b397a0dc5aacd4964dcd37fd1cfdb2ffd1e98d",
                ["source"] = "/mage",
                ["type"] = "mage.job.completed",
                ["subject"] = "jobs/j1",
                ["time"] = "2026-01-02T03:04:05+00:00",
                ["datacontenttype"] = "application/json",
            },
            attributes);
    }

    [Fact]
    public void Data_members_are_camel_case_and_nulls_are_left_out()
    {
        var e = MageEvent.Create(MageEventTypes.JobCompleted, "jobs/j1", "j1", JobData, Time);

        using var doc = JsonDocument.Parse(e.ToJsonBytes());
        var data = doc.RootElement.GetProperty("data");

        Assert.Equal(new[] { "jobId", "outputs", "status" }, MemberNames(data));
        Assert.Equal("j1", data.GetProperty("jobId").GetString());
        Assert.Equal("completed", data.GetProperty("status").GetString());
        Assert.Equal("results/jobs/j1/manifest.json", Assert.Single(data.GetProperty("outputs").EnumerateArray()).GetString());
    }

    [Fact]
    public void Failed_request_event_carries_the_request_id_and_error()
    {
        var e = MageEvent.Create(MageEventTypes.EditFailed, "edits/r1", "r1", new MageEventData(null, "r1", RecordStatus.Failed, [], "mask is required"), Time);

        using var doc = JsonDocument.Parse(e.ToJsonBytes());
        var data = doc.RootElement.GetProperty("data");

        Assert.Equal(new[] { "error", "outputs", "requestId", "status" }, MemberNames(data));
        Assert.Equal("r1", data.GetProperty("requestId").GetString());
        Assert.Equal("failed", data.GetProperty("status").GetString());
        Assert.Equal(0, data.GetProperty("outputs").GetArrayLength());
        Assert.Equal("mask is required", data.GetProperty("error").GetString());
    }

    [Fact]
    public void An_event_read_back_from_its_json_is_the_same_event()
    {
        // The outbox stores ToJsonBytes and a later delivery publishes what FromJson reads.
        var e = MageEvent.Create(MageEventTypes.EditFailed, "requests/r1", "edits/r1/", new MageEventData(null, "r1", RecordStatus.Failed, ["results/edits/r1/error.json"], "mask is required"), Time);

        var back = MageEvent.FromJson(BinaryData.FromBytes(e.ToJsonBytes()));

        Assert.Equal(e with { Data = back.Data }, back);
        Assert.Equal(e.Data with { Outputs = back.Data.Outputs }, back.Data);
        Assert.Equal(e.Data.Outputs, back.Data.Outputs);
    }

    [Fact]
    public void Event_type_names()
    {
        Assert.Equal("mage.upload.completed", MageEventTypes.UploadCompleted);
        Assert.Equal("mage.upload.failed", MageEventTypes.UploadFailed);
        Assert.Equal("mage.job.completed", MageEventTypes.JobCompleted);
        Assert.Equal("mage.job.failed", MageEventTypes.JobFailed);
        Assert.Equal("mage.edit.completed", MageEventTypes.EditCompleted);
        Assert.Equal("mage.edit.failed", MageEventTypes.EditFailed);
        Assert.Equal("mage.generate.completed", MageEventTypes.GenerateCompleted);
        Assert.Equal("mage.generate.failed", MageEventTypes.GenerateFailed);
        Assert.Equal("application/cloudevents+json; charset=utf-8", MageEvent.StructuredContentType);
    }

    private static string[] MemberNames(JsonElement element) =>
        [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
}
