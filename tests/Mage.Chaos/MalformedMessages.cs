using Mage.Jobs.Options;

namespace Mage.Chaos;

/// <summary>
/// The catalogue of malformed messages: bad JSON, wrong types, unknown kinds and members, absurd
/// parameters, hostile names, names and prefixes too long for Azure once the services' paths are
/// built from them, missing blobs and containers, bodies that are not base64; spread over
/// the four queues. Ids are unique per run (the run owns its Azurite).
/// </summary>
internal static class MalformedMessages
{
    /// <summary>How many the catalogue holds.</summary>
    public const int Count = 62;

    /// <summary>1,000 characters: Azure takes it as a name, but not the paths the services build under it.</summary>
    private static readonly string LongName = new('o', 1000);

    /// <summary>260 '/'-separated segments: over Azure's 254.</summary>
    private static readonly string DeepName = string.Join('/', Enumerable.Repeat("d", 260));

    /// <summary>
    /// The first <paramref name="count"/> messages, taken round-robin over the queues.
    /// <paramref name="source"/> is a container with images (<paramref name="image"/> is a good one,
    /// <paramref name="corrupt"/> a corrupt one); <paramref name="jobId"/> is the run's good job.
    /// </summary>
    public static IReadOnlyList<MalformedMessage> Take(int count, string source, string image, string corrupt, string jobId)
    {
        var jobs = Jobs(source).ToList();
        var edits = Edits(source, image, corrupt).ToList();
        var generate = Generate().ToList();
        var shards = Shards(jobId).ToList();
        var all = new List<MalformedMessage>();
        for (var i = 0; all.Count < Count; i++)
        {
            foreach (var list in new[] { jobs, edits, generate, shards })
            {
                if (i < list.Count)
                {
                    all.Add(list[i]);
                }
            }
        }

        if (all.Count != Count)
        {
            throw new InvalidOperationException($"The catalogue holds {all.Count} messages, not {Count}.");
        }

        return all.Take(count).ToList();
    }

    private static MalformedMessage Job(string body, string? id, string what) => new(WorkQueue.Jobs, body, id, false, what);

    private static MalformedMessage Edit(string body, string? id, string what) => new(WorkQueue.Edits, body, id, false, what);

    private static MalformedMessage Gen(string body, string? id, string what) => new(WorkQueue.Generate, body, id, false, what);

    private static MalformedMessage Shard(string body, string what) => new(WorkQueue.Shards, body, null, false, what);

    private static IEnumerable<MalformedMessage> Jobs(string src)
    {
        yield return Job("{ \"jobId\": ", null, "cut JSON");
        yield return Job("[1, 2, 3]", null, "an array");
        yield return Job("null", null, "JSON null");
        yield return Job($$"""{ "jobId": 42, "source": { "container": "{{src}}" } }""", null, "jobId a number");
        yield return Job("""{ "jobId": "bad-j5", "source": { "container": "no-such-container", "prefix": "" } }""", "bad-j5", "missing source container");
        yield return Job($$"""{ "jobId": "bad-j6", "source": { "container": "{{src}}" }, "shardSize": 100000 }""", "bad-j6", "absurd shardSize");
        yield return Job($$"""{ "jobId": "bad-j7", "source": { "container": "{{src}}" }, "shardSize": -1 }""", "bad-j7", "negative shardSize");
        yield return Job($$"""{ "jobId": "bad-j8", "source": { "container": "{{src}}" }, "bogus": true }""", "bad-j8", "unknown member");
        yield return Job($$"""{ "jobId": "../../etc/passwd", "source": { "container": "{{src}}" } }""", null, "hostile jobId");
        yield return Job($$"""{ "jobId": "bad-j10", "source": { "container": "{{src}}" }, "pooling": "maximum" }""", "bad-j10", "unknown pooling");
        yield return Job("""{ "jobId": "bad-j11", "source": { "container": "UPPER_case!!" } }""", "bad-j11", "invalid container name");
        yield return Job($$"""{ "jobId": "bad-j12", "source": { "container": "{{src}}", "prefix": "../../" } }""", "bad-j12", "'..' in the prefix");
        yield return new(WorkQueue.Jobs, "%%% not base64 %%%", null, true, "not base64");
        yield return new(WorkQueue.Jobs, $$"""{ "jobId": "bad-j14", "source": { "container": "{{src}}" }, "output": { "prefix": "{{LongName}}/" } }""", "bad-j14", false, "a 1,000-character output prefix", "nameTooLong");
        yield return new(WorkQueue.Jobs, $$"""{ "jobId": "bad-j15", "source": { "container": "{{src}}" }, "output": { "prefix": "{{DeepName}}/" } }""", "bad-j15", false, "a 260-segment output prefix", "nameTooLong");
        yield return new(WorkQueue.Jobs, """{ "jobId": "bad-j16", "source": { "container": "azure-webjobs-hosts" } }""", "bad-j16", false, "the Functions host's container as source", "notAllowed");
        yield return new(WorkQueue.Jobs, $$"""{ "jobId": "bad-j17", "source": { "container": "{{src}}" }, "output": { "container": "azure-webjobs-secrets" } }""", "bad-j17", false, "the Functions host's container as output", "notAllowed");
        yield return new(WorkQueue.Jobs, $$"""{ "jobId": "bad-j18", "source": { "container": "{{src}}" }, "output": { "prefix": "uploads/{{src}}/" } }""", "bad-j18", false, "an output inside the upload results", "notAllowed");
    }

    private static IEnumerable<MalformedMessage> Edits(string src, string image, string corrupt)
    {
        string Source(string name) => $$"""{ "container": "{{src}}", "name": "{{name}}" }""";
        yield return Edit("{ \"requestId\": \"bad-e1\", ", "bad-e1", "cut JSON");
        yield return Edit($$"""{ "requestId": "bad-e2", "kind": "teleport", "source": {{Source(image)}}, "boxes": [[0,0,8,8]] }""", "bad-e2", "unknown kind");
        yield return Edit($$"""{ "requestId": "bad-e3", "kind": "generate", "source": {{Source(image)}} }""", "bad-e3", "kind generate on the edits queue");
        yield return Edit($$"""{ "requestId": "bad-e4", "kind": "inpaint", "source": {{Source("nope/missing.png")}}, "boxes": [[0,0,8,8]], "steps": 2 }""", "bad-e4", "missing source blob");
        yield return Edit($$"""{ "requestId": "bad-e5", "kind": "inpaint", "source": { "container": "no-such-container", "name": "a.png" }, "boxes": [[0,0,8,8]], "steps": 2 }""", "bad-e5", "missing source container");
        yield return Edit($$"""{ "requestId": "bad-e6", "kind": "inpaint", "source": {{Source(image)}}, "boxes": [[0,0,8,8]], "steps": 2, "output": { "container": "no-such-output" } }""", "bad-e6", "missing output container");
        yield return Edit($$"""{ "requestId": "bad-e7", "kind": "inpaint", "source": {{Source(image)}}, "boxes": [[0,0,8,8]], "steps": 100000 }""", "bad-e7", "absurd steps");
        yield return Edit($$"""{ "requestId": "bad-e8", "kind": "inpaint", "source": {{Source(image)}}, "boxes": [[0,0,8,8]], "temperature": "hot" }""", "bad-e8", "temperature a string");
        yield return Edit($$"""{ "requestId": "../../x", "kind": "inpaint", "source": {{Source(image)}}, "boxes": [[0,0,8,8]] }""", null, "hostile requestId");
        yield return Edit($$"""{ "requestId": "bad-e10", "kind": "uncrop", "source": {{Source(image)}}, "scale": 1e30 }""", "bad-e10", "absurd scale");
        yield return Edit($$"""{ "requestId": "bad-e11", "kind": "inpaint", "source": {{Source(corrupt)}}, "boxes": [[0,0,8,8]], "steps": 2 }""", "bad-e11", "corrupt source image");
        yield return Edit($$"""{ "requestId": "bad-e12", "kind": "outpaint", "source": {{Source(image)}}, "left": 999999999 }""", "bad-e12", "absurd margin");
        yield return new(WorkQueue.Edits, "\u00ff\u00fe garbage", null, true, "not base64");
        yield return new(WorkQueue.Edits, $$"""{ "requestId": "bad-e14", "kind": "inpaint", "source": {{Source(image)}}, "boxes": [[0,0,8,8]], "steps": 2, "output": { "prefix": "{{LongName}}" } }""", "bad-e14", false, "a 1,000-character output prefix", "nameTooLong");
        yield return new(WorkQueue.Edits, """{ "requestId": "bad-e17", "kind": "inpaint", "source": { "container": "azure-webjobs-hosts", "name": "x.png" }, "boxes": [[0,0,8,8]], "steps": 2 }""", "bad-e17", false, "the Functions host's container as source", "notAllowed");
        yield return new(WorkQueue.Edits, $$"""{ "requestId": "bad-e16", "kind": "inpaint", "source": {{Source(image)}}, "boxes": [[0,0,8,8]], "steps": 2, "output": { "prefix": "uploads/{{image}}/" } }""", "bad-e16", false, "an output inside an upload's results", "notAllowed");
        yield return new(WorkQueue.Edits, $$"""{ "requestId": "bad-e15", "kind": "inpaint", "source": {{Source(new string('n', 1100))}}, "boxes": [[0,0,8,8]], "steps": 2 }""", "bad-e15", false, "a 1,100-character source name", "nameTooLong");
    }

    private static IEnumerable<MalformedMessage> Generate()
    {
        yield return Gen("""{ "requestId": "bad-g1", "count": "many" }""", "bad-g1", "count a string");
        yield return Gen("""{ "requestId": "bad-g2", "count": 10000000 }""", "bad-g2", "absurd count");
        yield return Gen("""{ "requestId": "bad-g3", "count": 1, "steps": 0 }""", "bad-g3", "steps 0");
        yield return Gen("""{ "requestId": "bad-g4", "count": 1, "temperature": -1 }""", "bad-g4", "negative temperature");
        yield return Gen("""{ "requestId": "bad-g5", "count": 1, "colour": "blue" }""", "bad-g5", "unknown member");
        yield return Gen("""{ "requestId": "a/../../b", "count": 1 }""", null, "hostile requestId");
        yield return Gen("{{{", null, "not JSON");
        yield return Gen("""{ "requestId": "bad-g8", "count": 1, "steps": 2, "output": { "container": "no-such-output" } }""", "bad-g8", "missing output container");
        yield return Gen("""{ "requestId": "bad-g9", "count": 1, "seed": -1 }""", "bad-g9", "negative seed");
        yield return Gen("\"hello\"", null, "a JSON string");
        yield return Gen("""{ "requestId": "bad-g11", "count": 1, "output": { "prefix": "../../" } }""", "bad-g11", "'..' in the output prefix");
        yield return new(WorkQueue.Generate, "not*base64*at*all", null, true, "not base64");
        yield return new(WorkQueue.Generate, $$"""{ "requestId": "bad-g13", "count": 1, "steps": 2, "output": { "prefix": "{{DeepName}}" } }""", "bad-g13", false, "a 260-segment output prefix", "nameTooLong");
        yield return new(WorkQueue.Generate, $$"""{ "requestId": "bad-g14", "count": 1, "steps": 2, "output": { "prefix": "{{LongName}}" } }""", "bad-g14", false, "a 1,000-character output prefix", "nameTooLong");
        yield return new(WorkQueue.Generate, """{ "requestId": "bad-g15", "count": 1, "steps": 2, "output": { "container": "azure-webjobs-hosts" } }""", "bad-g15", false, "the Functions host's container as output", "notAllowed");
    }

    private static IEnumerable<MalformedMessage> Shards(string jobId)
    {
        yield return Shard("{ \"jobId\": ", "cut JSON");
        yield return Shard("""{ "jobId": "no-such-job", "shard": 0 }""", "unknown job");
        yield return Shard($$"""{ "jobId": "{{jobId}}", "shard": 99999 }""", "shard past the job's last");
        yield return Shard("""{ "jobId": "../x", "shard": 0 }""", "hostile jobId");
        yield return Shard($$"""{ "jobId": "{{jobId}}", "shard": -3 }""", "negative shard");
        yield return Shard($$"""{ "jobId": "{{jobId}}", "shard": "one" }""", "shard a string");
        yield return Shard($$"""{ "jobId": "{{jobId}}", "shard": 0, "extra": true }""", "unknown member");
        yield return Shard("[]", "an array");
        yield return Shard("null", "JSON null");
        yield return Shard($$"""{ "jobId": "{{new string('x', 30000)}}", "shard": 0 }""", "a 30 000-character jobId");
        yield return Shard("""{ "jobId": "bad-j5", "shard": 0 }""", "shard of a failed job");
        yield return new(WorkQueue.Shards, "@@@@", null, true, "not base64");
    }
}
