using Mage.Jobs.Storage;

namespace Mage.Jobs.Tests.Storage;

/// <summary>
/// Every path is written out by hand: the layout is a contract with readers of the results
/// container (docs/operations.md, "Results layout"), and a retried message must write to the same place.
/// </summary>
public sealed class ResultsLayoutTests
{
    [Fact]
    public void UploadFolder_of_a_valid_name_keeps_the_name_and_hashes_the_etag()
    {
        // 4799e543705b7a62: SHA-256 of "0x8DC1" with its quotes, first 16 hex digits (Python hashlib).
        Assert.Equal("uploads/cat.jpg/4799e543705b7a62/", ResultsLayout.UploadFolder("cat.jpg", "\"0x8DC1\"", nameIsValid: true));
        Assert.Equal("uploads/dir/cat.jpg/4799e543705b7a62/", ResultsLayout.UploadFolder("dir/cat.jpg", "\"0x8DC1\"", nameIsValid: true));
    }

    [Fact]
    public void UploadFolder_of_an_invalid_name_hashes_the_name_too()
    {
        // 2d6afc710923ce47 = SHA-256("../evil")[..16], ba7816bf8f01cfea = SHA-256("abc")[..16] (Python hashlib).
        Assert.Equal("uploads/_invalid/2d6afc710923ce47/ba7816bf8f01cfea/", ResultsLayout.UploadFolder("../evil", "abc", nameIsValid: false));
    }

    [Fact]
    public void Outbox_is_named_by_the_full_hash_of_its_records_path()
    {
        // SHA-256 of "results/edits/r1/result.json" and of "jobs/jobs/j1/status.json" (Python hashlib).
        Assert.Equal("outbox/8c8b2bc5faf496018edf36f32406fbdcbbbc50b187a4cb8d63c4597f3605e3c8.event.json", ResultsLayout.Outbox("results", "edits/r1/result.json"));
        Assert.Equal("outbox/558cce275fc03c3b312155ee585d434605edf16f5cdfd7e3d2f4da608ba2966c.event.json", ResultsLayout.Outbox("jobs", ResultsLayout.JobStatus("j1")));
    }

    [Fact]
    public void UploadFolder_changes_with_the_etag()
    {
        Assert.Equal("uploads/cat.jpg/ba7816bf8f01cfea/", ResultsLayout.UploadFolder("cat.jpg", "abc", nameIsValid: true));
        Assert.NotEqual(
            ResultsLayout.UploadFolder("cat.jpg", "abc", nameIsValid: true),
            ResultsLayout.UploadFolder("cat.jpg", "abd", nameIsValid: true));
    }

    [Fact]
    public void Job_documents_in_the_jobs_container()
    {
        Assert.Equal("jobs/j1/status.json", ResultsLayout.JobStatus("j1"));
        Assert.Equal("jobs/j1/shards/", ResultsLayout.JobShardsFolder("j1"));
        Assert.Equal("rejected/0a6df48a27ef7db4.json", ResultsLayout.RejectedJob("0a6df48a27ef7db4"));
        Assert.Equal("jobs/j1/stripes/", ResultsLayout.JobStripesFolder("j1"));
        Assert.Equal("jobs/j1/stripes/007", ResultsLayout.JobStripe("j1", 7));
        Assert.StartsWith(ResultsLayout.JobStripesFolder("j1"), ResultsLayout.JobStripe("j1", 63), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "jobs/j1/shards/000000.json")]
    [InlineData(7, "jobs/j1/shards/000007.json")]
    [InlineData(123456, "jobs/j1/shards/123456.json")]
    [InlineData(1234567, "jobs/j1/shards/1234567.json")]
    public void JobShard_numbers_have_six_digits_at_least(int shard, string expected) =>
        Assert.Equal(expected, ResultsLayout.JobShard("j1", shard));

    [Theory]
    [InlineData("jobs/j1/", 3, "jobs/j1/out/part-000003.parquet")]
    [InlineData("jobs/j1", 3, "jobs/j1/out/part-000003.parquet")]
    [InlineData("runs/7//", 42, "runs/7/out/part-000042.parquet")]
    [InlineData("", 0, "out/part-000000.parquet")]
    public void JobPart_is_under_the_output_prefix(string prefix, int shard, string expected) =>
        Assert.Equal(expected, ResultsLayout.JobPart(prefix, shard));

    [Theory]
    [InlineData("jobs/j1/", "jobs/j1/out/", "jobs/j1/manifest.json")]
    [InlineData("jobs/j1", "jobs/j1/out/", "jobs/j1/manifest.json")]
    [InlineData("", "out/", "manifest.json")]
    public void Parts_folder_and_manifest_are_under_the_output_prefix(string prefix, string parts, string manifest)
    {
        Assert.Equal(parts, ResultsLayout.JobPartsFolder(prefix));
        Assert.Equal(manifest, ResultsLayout.JobManifest(prefix));
    }

    [Theory]
    [InlineData("edits/", "r1", "edits/r1/")]
    [InlineData("edits", "r1", "edits/r1/")]
    [InlineData("", "r1", "r1/")]
    public void RequestFolder_is_the_request_id_under_the_prefix(string prefix, string requestId, string expected) =>
        Assert.Equal(expected, ResultsLayout.RequestFolder(prefix, requestId));

    [Fact]
    public void Result_files_of_a_folder()
    {
        Assert.Equal("edits/r1/result.json", ResultsLayout.RequestResult("edits/r1/"));
        Assert.Equal("edits/r1/error.json", ResultsLayout.Error("edits/r1/"));
        Assert.Equal("generate/g1/image-0.png", ResultsLayout.RequestImage("generate/g1/", 0));
        Assert.Equal("generate/g1/image-12.png", ResultsLayout.RequestImage("generate/g1/", 12));
        Assert.Equal("generate/g1/tokens.npy", ResultsLayout.Tokens("generate/g1/"));
        Assert.Equal("uploads/a.png/0123/record.json", ResultsLayout.UploadRecord("uploads/a.png/0123/"));
        Assert.Equal("uploads/a.png/0123/embedding.npy", ResultsLayout.UploadEmbedding("uploads/a.png/0123/"));
        Assert.Equal("edits/_rejected/00ff/", ResultsLayout.RejectedRequestFolder("edits", "00ff"));
        Assert.Equal("edits/_rejected/00ff/", ResultsLayout.RejectedRequestFolder("edits/", "00ff"));
    }

    [Fact]
    public void Suffixes_are_the_longest_paths_each_kind_builds_plus_a_margin_of_16_characters_and_1_segment()
    {
        // uploads/{name}/{16-digit hash}/embedding.npy: 8 + 1 + 16 + 1 + 13 = 39; "uploads", the hash, the file.
        Assert.Equal(new PathSuffix(39 + 16, 3 + 1), ResultsLayout.UploadNameSuffix);

        // {prefix}/{64-character id}/image-4095.png: 1 + 64 + 1 + 14 = 80; the id, the file.
        Assert.Equal(new PathSuffix(80 + 16, 2 + 1), ResultsLayout.RequestPrefixSuffix);

        // {prefix}/out/part-2147483647.parquet (the highest shard; manifest.json and job.json are shorter): 1 + 27 = 28; "out", the file.
        Assert.Equal(new PathSuffix(28 + 16, 2 + 1), ResultsLayout.JobPrefixSuffix);
    }

    [Fact]
    public void Every_path_built_from_the_longest_accepted_upload_name_fits_Azure()
    {
        var name = new string('n', BlobNames.MaxPathLength - ResultsLayout.UploadNameSuffix.Characters);
        Assert.Null(BlobNames.CheckBlobName(name, BlobNames.MaxPathLength, ResultsLayout.UploadNameSuffix));
        var folder = ResultsLayout.UploadFolder(name, "\"0x8DC1\"", nameIsValid: true);

        foreach (var path in new[] { ResultsLayout.UploadRecord(folder), ResultsLayout.Error(folder), ResultsLayout.Claim(folder), ResultsLayout.UploadEmbedding(folder), ResultsLayout.Tokens(folder) })
        {
            Assert.InRange(path.Length, 1, BlobNames.MaxPathLength - 16);
        }

        Assert.NotNull(BlobNames.CheckBlobName(name + "n", BlobNames.MaxPathLength, ResultsLayout.UploadNameSuffix));
    }
}
