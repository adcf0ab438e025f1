using System.CommandLine;
using Mage.Cli.Serve;
using Mage.Cli.Worker;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Commands;

/// <summary><c>mage serve</c>: the Functions app's HTTP job API on this machine (Kestrel), optionally with the worker in the same process.</summary>
internal static class ServeCommand
{
    public const string DefaultUrls = "http://127.0.0.1:7071";

    public static Command Create(CliContext context, CommonOptions common, StorageOptions storage)
    {
        var urls = new Option<string>("--urls")
        {
            Description = $"Where to listen: one or more http://HOST:PORT separated by ';' (HOST may be * for every address). Default {DefaultUrls}, the Functions host's local port.",
            HelpName = "URLS",
            DefaultValueFactory = _ => DefaultUrls,
        };
        var withWorker = new Option<bool>("--with-worker") { Description = "Also run the worker (as mage worker does) in this process, so submitted jobs run." };
        var quiet = new Option<bool>("--quiet") { Description = "Log warnings and errors only." };
        var command = new Command(
            "serve",
            "Serve the Functions app's HTTP API (jobs, edits, generations, embeddings; GET /api/openapi.json lists every route) and the studio page (GET /) over HTTP from this machine, against a storage account (or Azurite). No function keys: callers are key callers unless Mage__Api__TrustAuthHeaders is set.")
        {
            urls, withWorker, quiet,
        };
        common.AddTo(command);
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var listen = CheckUrls(parse.GetValue(urls)!);
            var settings = storage.Resolve(parse);
            var level = parse.GetValue(quiet) ? LogLevel.Warning : LogLevel.Information;
            await using var model = parse.GetValue(withWorker) ? WorkerCommand.LoadModel(parse, common, settings, context, out _) : null;
            using var host = JobsHost.Create(settings, context.Error, level, model?.Engine);

            // As the Functions app at start-up: a POST right after "listening" finds its queue and container.
            await host.EnsureStorageAsync(cancellationToken);
            await using var app = ApiServer.Build(listen, host.Services, context.Error, level);
            await app.StartAsync(cancellationToken);
            var worker = model is null
                ? null
                : new QueueWorker(host, host.CreateRawQueues(), host.CreateWorkerBlobs(), host.Get<ILoggerFactory>().CreateLogger("Mage.Cli.Worker"), TimeSpan.FromSeconds(WorkerDefaults.LeaseSeconds));
            context.Error.WriteLine($"mage serve: listening on {string.Join(", ", app.Urls)}{(worker is null ? "" : " with the worker")}; press Ctrl+C to stop.");
            context.Error.WriteLine($"mage serve: the studio is at {string.Join(", ", app.Urls.Select(url => url + "/"))}{(worker is null ? " (start with --with-worker to run what it submits)" : "")}.");
            try
            {
                await (worker?.RunAsync(drainOnce: false, cancellationToken) ?? Task.Delay(Timeout.Infinite, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // SIGINT or SIGTERM is how the server is stopped.
            }
            finally
            {
                // Requests in flight get a few seconds to finish; then their tokens fire.
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await app.StopAsync(grace.Token);
            }

            context.Error.WriteLine("mage serve: stopped.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary>The <c>--urls</c> value when each of its entries is an http address Kestrel can bind.</summary>
    /// <exception cref="UsageException">An entry is not one.</exception>
    private static string CheckUrls(string urls)
    {
        var entries = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
        {
            throw new UsageException($"--urls '{urls}' names no address; use http://HOST:PORT, e.g. {DefaultUrls}.");
        }

        foreach (var entry in entries)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(entry);
            }
            catch (FormatException)
            {
                throw new UsageException($"--urls entry '{entry}' is not an address; use http://HOST:PORT, e.g. {DefaultUrls}.");
            }

            if (address.Scheme != "http" || address.Port is < 0 or > 65535)
            {
                throw new UsageException($"--urls entry '{entry}' is not http://HOST:PORT (https: put a proxy with a certificate in front); e.g. {DefaultUrls}.");
            }
        }

        return string.Join(';', entries);
    }
}
