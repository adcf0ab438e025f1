using System.CommandLine;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Mage.Cli.Worker;
using Mage.Inference;
using Mage.Jobs.Options;
using Microsoft.Extensions.Logging;

namespace Mage.Cli.Commands;

/// <summary>
/// <c>mage blob upload|list|download</c> and <c>mage queue send</c>: the few storage operations
/// a local setup needs (put images in, send an edit or generation request, get results out)
/// without the Azure CLI.
/// </summary>
internal static class StorageCommands
{
    public static Command Blob(CliContext context, StorageOptions storage)
    {
        var blob = new Command("blob", "Upload, list and download blobs.");
        blob.Subcommands.Add(Upload(context, storage));
        blob.Subcommands.Add(List(context, storage));
        blob.Subcommands.Add(Download(context, storage));
        return blob;
    }

    public static Command Queue(CliContext context, StorageOptions storage)
    {
        var target = new Argument<WorkQueue>("queue")
        {
            Description = $"{string.Join(", ", WireNames.All<WorkQueue>())}: the configured queue of that kind (Mage__Storage__*Queue).",
            CustomParser = result =>
            {
                var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
                if (!WireNames.TryParse<WorkQueue>(token, out var queue))
                {
                    result.AddError(WireNames.Unknown<WorkQueue>(token, "queue"));
                }

                return queue;
            },
        };
        var message = new Argument<string>("message") { Description = "A file holding the JSON message, or - for stdin." };
        var send = new Command("send", "Send one JSON message (the Functions app's format, docs/operations.md) to a Mage queue.") { target, message };
        storage.AddTo(send);
        send.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var path = parse.GetValue(message)!;
            var body = path == "-" ? await System.Console.In.ReadToEndAsync(cancellationToken) : await File.ReadAllTextAsync(path, cancellationToken);
            try
            {
                using var _ = JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                throw new UsageException($"The message in '{path}' is not JSON: {e.Message}");
            }

            using var host = JobsHost.Create(storage.Resolve(parse), context.Error, LogLevel.Warning);
            var s = host.Storage;
            var name = s.QueueName(parse.GetValue(target));
            var queue = host.Queues.GetQueueClient(name);
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            var receipt = await queue.SendMessageAsync(body, cancellationToken);
            context.Out.WriteLine($"Sent message {receipt.Value.MessageId} to queue '{name}'.");
            return ExitCodes.Success;
        }, cancellationToken));
        var queueCommand = new Command("queue", "Send messages to Mage's queues.");
        queueCommand.Subcommands.Add(send);
        return queueCommand;
    }

    private static Option<string> Container(string defaultValue) => new("--container")
    {
        Description = $"The container. Default: {defaultValue}.",
        DefaultValueFactory = _ => defaultValue,
        HelpName = "C",
    };

    private static Option<string> Prefix(string description) => new("--prefix") { Description = description, DefaultValueFactory = _ => "", HelpName = "P" };

    private static Command Upload(CliContext context, StorageOptions storage)
    {
        var inputs = new Argument<string[]>("files") { Description = "Files and folders (folders are uploaded recursively, keeping relative paths).", Arity = ArgumentArity.OneOrMore };
        var container = Container("uploads");
        var prefix = Prefix("Prepended to every blob name, e.g. photos/.");
        var command = new Command("upload", "Upload files to a container (created if missing); existing blobs are overwritten.") { inputs, container, prefix };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            var files = new List<(string Path, string Name)>();
            foreach (var input in parse.GetValue(inputs)!)
            {
                if (Directory.Exists(input))
                {
                    files.AddRange(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                        .Select(f => (f, Path.GetRelativePath(input, f).Replace('\\', '/'))));
                }
                else if (File.Exists(input))
                {
                    files.Add((input, Path.GetFileName(input)));
                }
                else
                {
                    throw new IOException($"'{input}' is neither a file nor a folder.");
                }
            }

            using var host = JobsHost.Create(storage.Resolve(parse), context.Error, LogLevel.Warning);
            var client = host.Blobs.GetBlobContainerClient(parse.GetValue(container));
            await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            var blobPrefix = parse.GetValue(prefix)!;
            foreach (var (path, name) in files)
            {
                await using var stream = File.OpenRead(path);
                await client.GetBlobClient(blobPrefix + name).UploadAsync(stream, overwrite: true, cancellationToken);
                context.Out.WriteLine($"{client.Name}/{blobPrefix}{name}");
            }

            context.Error.WriteLine($"Uploaded {files.Count} file{(files.Count == 1 ? "" : "s")} to '{client.Name}'.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command List(CliContext context, StorageOptions storage)
    {
        var container = Container("results");
        var prefix = Prefix("Only blobs whose names start with this.");
        var command = new Command("list", "List blob names and sizes (bytes), one per line.") { container, prefix };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            using var host = JobsHost.Create(storage.Resolve(parse), context.Error, LogLevel.Warning);
            var client = host.Blobs.GetBlobContainerClient(parse.GetValue(container));
            await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, parse.GetValue(prefix), cancellationToken))
            {
                context.Out.WriteLine($"{item.Name}\t{item.Properties.ContentLength}");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command Download(CliContext context, StorageOptions storage)
    {
        var container = Container("results");
        var prefix = Prefix("Download every blob whose name starts with this.");
        var output = CommonOptions.Out("Folder to write into; each blob keeps its name (with '/' as folders).", "DIR");
        var command = new Command("download", "Download the blobs under a prefix into a folder.") { container, prefix, output };
        storage.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApp.GuardAsync(context, parse, async () =>
        {
            using var host = JobsHost.Create(storage.Resolve(parse), context.Error, LogLevel.Warning);
            var client = host.Blobs.GetBlobContainerClient(parse.GetValue(container));
            var root = Path.GetFullPath(parse.GetValue(output)!);
            var count = 0;
            await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, parse.GetValue(prefix), cancellationToken))
            {
                var target = Path.GetFullPath(Path.Combine(root, item.Name));
                if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    context.WriteError($"skipped '{item.Name}': it would land outside {root}.");
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await client.GetBlobClient(item.Name).DownloadToAsync(target, cancellationToken);
                context.Out.WriteLine(target);
                count++;
            }

            if (count == 0)
            {
                context.WriteError($"nothing under '{parse.GetValue(prefix)}' in '{client.Name}'.");
                return ExitCodes.Failure;
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
