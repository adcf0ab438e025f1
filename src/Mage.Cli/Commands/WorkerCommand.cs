using System.CommandLine;
using Mage.Cli.Worker;
using Mage.Inference;
using Mage.Jobs.Options;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Commands;

/// <summary><c>mage worker</c>: the Functions app's job services on this machine, fed by polling storage.</summary>
internal static class WorkerCommand
{
    public static Command Create(CliContext context, CommonOptions common, StorageOptions storage)
    {
        var once = new Option<bool>("--once") { Description = "Drain every queue and process pending uploads, then exit (for scripts and tests)." };
        var quiet = new Option<bool>("--quiet") { Description = "Log warnings and errors only." };
        var lease = CommonOptions.Positive(
            "--lease",
            $"Seconds a received message stays hidden; renewed every third of it while the message runs, so a crashed worker's messages return after at most this long ({WorkerDefaults.MinLeaseSeconds}..{WorkerDefaults.MaxLeaseSeconds}).",
            WorkerDefaults.LeaseSeconds,
            WorkerDefaults.MinLeaseSeconds,
            WorkerDefaults.MaxLeaseSeconds);
        lease.HelpName = "SECONDS";
        var command = new Command(
            "worker",
            "Process uploads, bulk jobs, shards, edits and generation requests from a storage account (or Azurite) by polling its queues and uploads container: the Functions app's work without the Functions host.")
        {
            once, quiet, lease,
        };
        common.AddTo(command);
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var settings = storage.Resolve(parse);
            await using var model = LoadModel(parse, common, settings, context, out var folder);
            using var host = JobsHost.Create(settings, context.Error, parse.GetValue(quiet) ? LogLevel.Warning : LogLevel.Information, model.Engine);
            var logger = host.Get<ILoggerFactory>().CreateLogger("Mage.Cli.Worker");
            var worker = new QueueWorker(host, host.CreateRawQueues(), host.CreateWorkerBlobs(), logger, TimeSpan.FromSeconds(parse.GetValue(lease)));
            context.Error.WriteLine($"mage worker: model {model.Model.Package.Manifest.Arch} from {Path.GetFullPath(folder)} ({WireNames.Of(model.Model.Precision)} precision) on {model.Model.Device.Description}; " +
                                    (parse.GetValue(once) ? "draining once." : "press Ctrl+C to stop."));
            try
            {
                await worker.RunAsync(parse.GetValue(once), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Reported below: the run ends this way or returns, depending on where the signal found it.
            }

            if (cancellationToken.IsCancellationRequested)
            {
                // SIGINT or SIGTERM is how a worker is stopped: unfinished messages were made visible again.
                context.Error.WriteLine("mage worker: stopped.");
            }

            // What a container needs: the peak resident set (VmHWM on Linux) and the managed heap's part of it.
            using (var self = System.Diagnostics.Process.GetCurrentProcess())
            {
                context.Error.WriteLine($"mage worker: peak RSS {self.PeakWorkingSet64 >> 20} MiB; GC heap {GC.GetGCMemoryInfo().HeapSizeBytes >> 20} MiB after the last collection.");
            }

            context.Out.WriteLine($"Worker done: {(worker.Tally.ToString() is { Length: > 0 } t ? t : "nothing to do")}.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// The model the job services run on: the <c>Mage:Model</c> and <c>Mage:Limits</c> settings of the
    /// environment, overridden by the command line's model options (which are added to
    /// <paramref name="settings"/>). The caller owns it; <paramref name="folder"/> is its package.
    /// </summary>
    /// <exception cref="UsageException">The settings name a blob prefix: a local package only.</exception>
    internal static LocalModel LoadModel(ParseResult parse, CommonOptions common, Dictionary<string, string?> settings, CliContext context, out string folder)
    {
        AddModelOptions(parse, common, settings);

        // The model and the image limits the engine decodes under come from the app's settings
        // (Mage__Model__*, Mage__Limits__*), through the app's own mapping (ModelSettings.ToModelOptions).
        var (limits, modelSettings) = JobsHost.ReadWorkerSettings(settings);
        if (!string.IsNullOrWhiteSpace(modelSettings.BlobPrefix))
        {
            throw new UsageException(
                $"Mage__Model__BlobPrefix '{modelSettings.BlobPrefix}' is set, but mage {parse.CommandResult.Command.Name} loads a local package only: " +
                "download it (mage blob download --container models --prefix ... --out DIR) and set Mage__Model__PackagePath or give --model DIR.");
        }

        folder = modelSettings.PackagePath!;
        var bundled = folder == LocalModel.BundledPackage;
        if (bundled)
        {
            context.Error.WriteLine(LocalModel.BundledNotice);
        }

        return LocalModel.Load(modelSettings.ToModelOptions(folder), modelSettings.DecodeLoop, parse.GetValue(common.BatchSize), context, bundled, limits.ToImageLimits());
    }

    /// <summary>
    /// The command line's model options as <c>Mage:Model</c> settings, so they override the
    /// environment's: <c>--model</c> replaces the package (path or blob prefix); <c>--device</c> and
    /// <c>--precision</c> count only when given, since their defaults would hide the environment's.
    /// </summary>
    private static void AddModelOptions(ParseResult parse, CommonOptions common, Dictionary<string, string?> settings)
    {
        const string Section = ModelSettings.Section + ":";
        if (parse.GetValue(common.Model) is { } model && !string.IsNullOrWhiteSpace(model))
        {
            settings[Section + nameof(ModelSettings.PackagePath)] = model;
            settings[Section + nameof(ModelSettings.BlobPrefix)] = null;
        }

        if (parse.GetResult(common.Device) is { Implicit: false })
        {
            settings[Section + nameof(ModelSettings.Device)] = parse.GetValue(common.Device)!.ToLowerInvariant();
        }

        if (parse.GetResult(common.Precision) is { Implicit: false })
        {
            settings[Section + nameof(ModelSettings.Precision)] = parse.GetValue(common.Precision).ToString();
        }
    }
}
