using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Mage.Cli.Worker;
using Mage.Inference;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.BulkJobs;
using Mage.Jobs.Http;
using Mage.Jobs.Options;
using Mage.Jobs.Requests;
using Mage.Jobs.Vocabulary;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Mage.Cli.Commands;

/// <summary><c>mage job submit</c> and <c>mage job status</c>: bulk embedding jobs in a storage account, in the Functions app's message format.</summary>
internal static class JobCommands
{
    private static readonly JsonSerializerOptions Compact = new(JsonDefaults.Documents) { WriteIndented = false };

    public static Command Create(CliContext context, StorageOptions storage)
    {
        var job = new Command("job", "Submit bulk embedding jobs to a storage account (or Azurite) and read their status.");
        job.Subcommands.Add(Submit(context, storage));
        job.Subcommands.Add(Status(context, storage));
        return job;
    }

    private static Command Submit(CliContext context, StorageOptions storage)
    {
        var prefix = new Option<string?>("--prefix") { Description = "Embed every blob under this prefix of the source container (\"\" = all).", HelpName = "P" };
        var blobs = new Option<string?>("--blobs") { Description = "Embed these blobs (comma-separated names).", HelpName = "a,b,c" };
        var blobsFile = new Option<string?>("--blobs-file") { Description = "Embed the blobs named in this file, one per line (blank lines and lines starting with # are skipped).", HelpName = "FILE" };
        var listBlob = new Option<string?>("--list-blob") { Description = "Embed the blobs named in this blob of the source container, one per line; the service streams it (for lists too long for a message).", HelpName = "NAME" };
        var sourceContainer = new Option<string>("--source-container") { Description = "The container holding the images.", Required = true, HelpName = "C" };
        var kind = CommonOptions.OptionalChoice<JobKind>("--kind", $"What to write for each image: embeddings (pooled features) or tokens (256 token ids). Default: {WireNames.Of(JobKind.Embeddings)}.");
        var pooling = CommonOptions.OptionalChoice<FeaturePooling>("--pooling", $"Which feature (embeddings jobs). Default (the app's): {WireNames.Of(MageDefaults.Pooling)}.");
        var normalize = new Option<bool>("--normalize") { Description = "Scale each embedding to unit L2 norm." };
        var preprocess = CommonOptions.OptionalChoice<PreprocessMode>("--preprocess", $"How each image becomes 256x256. Default (the app's): {WireNames.Of(MageDefaults.EmbedPreprocess)}.");
        var shardSize = new Option<int?>("--shard-size") { Description = $"Images per shard message. Default (the app's): {LimitSettings.DefaultShardSize}, at most Mage:Limits:MaxShardSize.", HelpName = "N" };
        var jobId = new Option<string?>("--job-id") { Description = "The job id, 1-64 of A-Z a-z 0-9 . _ -. Default: job-<UTC time>-<random>.", HelpName = "ID" };
        var outputContainer = new Option<string?>("--output-container") { Description = "Where the Parquet parts and manifest go. Default: the results container.", HelpName = "C" };
        var outputPrefix = new Option<string?>("--output-prefix") { Description = "Folder for this job's output; must be empty. Default: jobs/<id>/.", HelpName = "P" };
        var command = new Command("submit", "Enqueue a bulk job (the Functions app's job message) on the jobs queue: embeddings or tokens of every image.")
        {
            prefix, blobs, blobsFile, listBlob, sourceContainer, kind, pooling, normalize, preprocess, shardSize, jobId, outputContainer, outputPrefix,
        };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var given = new[] { parse.GetResult(prefix) is not null, parse.GetValue(blobs) is not null, parse.GetValue(blobsFile) is not null, parse.GetValue(listBlob) is not null }.Count(x => x);
            if (given != 1)
            {
                throw new UsageException("Give exactly one of --prefix, --blobs, --blobs-file and --list-blob.");
            }

            IReadOnlyList<string>? names = null;
            if (parse.GetValue(blobs) is { } list)
            {
                names = [.. list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            }
            else if (parse.GetValue(blobsFile) is { } file)
            {
                names = [.. (await File.ReadAllLinesAsync(file, cancellationToken)).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
            }

            var id = parse.GetValue(jobId) ?? NewJobId();
            var output = parse.GetValue(outputContainer) is null && parse.GetValue(outputPrefix) is null
                ? null
                : new OutputRequest(parse.GetValue(outputContainer), parse.GetValue(outputPrefix));
            var request = new JobMessage(
                id,
                parse.GetValue(kind),
                new JobSourceRequest(
                    parse.GetValue(sourceContainer), names is null && parse.GetValue(listBlob) is null ? parse.GetValue(prefix) ?? "" : null, names, parse.GetValue(listBlob)),
                output,
                parse.GetValue(pooling),
                parse.GetResult(normalize) is null ? null : parse.GetValue(normalize),
                parse.GetValue(preprocess),
                parse.GetValue(shardSize));
            var body = JsonSerializer.Serialize(request, Compact);

            using var host = JobsHost.Create(storage.Resolve(parse), context.Error, LogLevel.Warning);
            await host.Queues.GetQueueClient(host.Storage.JobsQueue).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            var result = await host.Get<JobApiService>().SubmitAsync(body, ApiCaller.Operator, NewCorrelationId(), cancellationToken);
            switch (result.Status)
            {
                case HttpStatusCode.Accepted:
                    context.Out.WriteLine($"Submitted job {id} to queue '{host.Storage.JobsQueue}'.");
                    context.Out.WriteLine($"Status: mage job status {id} {ConnectionHint(parse, storage)}");
                    context.Out.WriteLine("It runs when a worker takes it: the Functions app, or `mage worker` with the same connection.");
                    return ExitCodes.Success;
                case HttpStatusCode.Conflict:
                    context.WriteError($"job {id} already exists; give another --job-id.");
                    return ExitCodes.Failure;
                case HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge:
                    throw new UsageException($"The job was refused: {ErrorOf(result)}");
                default:
                    return StorageFailed(context, result);
            }
        }, cancellationToken));
        return command;
    }

    private static Command Status(CliContext context, StorageOptions storage)
    {
        var jobId = new Argument<string>("jobId") { Description = "The job id." };
        var json = new Option<bool>("--json") { Description = "Print the status document as JSON instead of a table." };
        var command = new Command("status", "Show a job's status: state, shards, images done and failed, throughput, ETA. Exits 1 when the job failed or does not exist.") { jobId, json };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var id = parse.GetValue(jobId)!;
            using var host = JobsHost.Create(storage.Resolve(parse), context.Error, LogLevel.Warning);
            var result = await host.Get<JobApiService>().GetStatusAsync(id, ApiCaller.Operator, NewCorrelationId(), cancellationToken);
            if (result is not { Status: HttpStatusCode.OK, Body: JobStatus status })
            {
                switch (result.Status)
                {
                    case HttpStatusCode.BadRequest:
                        throw new UsageException($"'{id}' is not a job id: {ErrorOf(result)}");
                    case HttpStatusCode.NotFound:
                        context.WriteError($"no job '{id}': there is no jobs/{id}/status.json in container '{host.Storage.JobsContainer}' (was it submitted to this account, and has a worker taken it yet?).");
                        return ExitCodes.Failure;
                    default:
                        return StorageFailed(context, result);
                }
            }

            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(status, JsonDefaults.Documents));
            }
            else
            {
                WriteTable(context, status);
            }

            return status.State == JobState.Failed ? ExitCodes.Failure : ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static void WriteTable(CliContext context, JobStatus s)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var table = new Table().HideHeaders().AddColumns("Field", "Value");
        table.AddRow("job", Markup.Escape(s.JobId));
        table.AddRow("state", Markup.Escape(WireNames.Of(s.State)));
        if (s.Reason is not null)
        {
            table.AddRow("reason", Markup.Escape(s.Reason));
        }

        table.AddRow("source", Markup.Escape($"{s.SourceContainer}/{s.SourcePrefix}"));
        table.AddRow("output", Markup.Escape($"{s.OutputContainer}/{s.OutputPrefix}"));
        var soFar = s.State == JobState.Listing ? " listed so far" : ""; // shards run while the job is still listing
        table.AddRow("shards", $"{N(s.ShardsDone)} done, {N(s.ShardsFailed)} failed of {N(s.ShardsTotal)}{soFar}");
        table.AddRow("images", $"{N(s.ImagesDone)} done, {N(s.ImagesFailed)} failed of {N(s.ImagesTotal)}{soFar}");
        table.AddRow("throughput", s.ImagesPerSecond is { } rate ? $"{rate.ToString("F1", CultureInfo.InvariantCulture)} images/s" : "-");
        table.AddRow("eta", s.EtaSeconds is { } eta ? TimeSpan.FromSeconds(Math.Round(eta)).ToString("c", CultureInfo.InvariantCulture) : "-");
        table.AddRow("created", s.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
        table.AddRow("updated", s.UpdatedAt.ToString("u", CultureInfo.InvariantCulture));
        if (s.CompletedAt is { } done)
        {
            table.AddRow("completed", done.ToString("u", CultureInfo.InvariantCulture));
        }

        Console.CliTables.For(context).Write(table);
    }

    private static string NewJobId() =>
        $"job-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..6]}";

    /// <summary>
    /// The id the job API logs its storage trouble under (the log goes to stderr here). `mage job`
    /// holds the account's rights, so it calls as <see cref="ApiCaller.Operator"/>.
    /// </summary>
    private static string NewCorrelationId() => Guid.NewGuid().ToString();

    private static string ConnectionHint(ParseResult parse, StorageOptions storage) =>
        parse.GetValue(storage.AccountUrl) is { } url ? $"--account-url {url}" : "--connection \"...\"";

    /// <summary>
    /// Any other answer of the job API (503: storage did not answer, or a container or queue is
    /// missing) is a storage error: exit 1 with the API's message, as for the storage errors the
    /// SDK throws (<see cref="CliApp.GuardAsync"/>).
    /// </summary>
    private static int StorageFailed(CliContext context, ApiResult result)
    {
        context.WriteError($"storage: {(int)result.Status} {result.Status}: {ErrorOf(result)}");
        return ExitCodes.Failure;
    }

    private static string ErrorOf(ApiResult result)
    {
        var element = JsonSerializer.SerializeToElement(result.Body);
        return element.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : element.ToString();
    }
}
