using System.CommandLine;
using System.CommandLine.Parsing;
using Mage.Cli.Commands;
using Mage.Inference;
using Microsoft.ML.OnnxRuntime;

namespace Mage.Cli;

/// <summary>The <c>mage</c> command line: parses, runs one command, returns the exit code (see <see cref="ExitCodes"/>).</summary>
internal static class CliApp
{
    /// <summary>
    /// Runs <c>mage</c> with <paramref name="args"/>. Tests call this in-process with string
    /// writers; <c>Program</c> passes the console. Progress bars are drawn only when
    /// <paramref name="stderr"/> is the console's and it is a terminal.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var interactive = ReferenceEquals(stderr, System.Console.Error) && !System.Console.IsErrorRedirected;
        var stdoutTerminal = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected;
        var context = new CliContext(TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), interactive, stdoutTerminal);
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                context.WriteError(error.Message);
            }

            context.Error.WriteLine($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,

            // Program handles SIGINT and SIGTERM itself, and tests must not install process-wide handlers.
            ProcessTerminationTimeout = null,
        };
        var code = await parse.InvokeAsync(invocation, cancellationToken);

        // Not the command's token: after Ctrl+C or SIGTERM it is cancelled, and a flush that
        // throws here would escape Main and abort the process (exit 134) after a clean stop.
        await context.Out.FlushAsync(CancellationToken.None);
        return code;
    }

    /// <summary>Runs a command body, turning the failures a user can cause into messages and exit codes.</summary>
    internal static async Task<int> GuardAsync(CliContext context, ParseResult parse, Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body();
        }
        catch (UsageException e)
        {
            context.WriteError(e.Message);
            context.Error.WriteLine($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.WriteError("cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is MageException or Mage.Jobs.Storage.StorageSetupException or IOException or UnauthorizedAccessException or InvalidDataException or OnnxRuntimeException)
        {
            context.WriteError(e.Message);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is Azure.RequestFailedException || (e is AggregateException && Mage.Jobs.Storage.StorageFailures.IsStorageFailure(e)))
        {
            // The AggregateException is the SDK's retry policy giving up ("Retry failed after 6 tries").
            context.WriteError($"storage: {Mage.Jobs.Storage.StorageFailures.Describe(e)}");
            return ExitCodes.Failure;
        }
        catch (Azure.Identity.AuthenticationFailedException e)
        {
            // Describe gives an exception that is not a storage answer as its message's first line.
            context.WriteError($"sign-in failed (DefaultAzureCredential): {Mage.Jobs.Storage.StorageFailures.Describe(e)}");
            return ExitCodes.Failure;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            context.WriteError($"invalid setting: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (InvalidOperationException e) when (e.Source == "Microsoft.Extensions.Configuration.Binder")
        {
            // A Mage__* key the settings do not have (the services bind them strictly), or a value of the wrong type.
            context.WriteError($"invalid setting: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (FormatException e) when (e.Source?.StartsWith("Azure", StringComparison.Ordinal) == true)
        {
            context.WriteError(e.Message);
            return ExitCodes.Failure;
        }
    }

    private static RootCommand BuildRoot(CliContext context)
    {
        var common = new CommonOptions();
        var root = new RootCommand("mage: tokenize, embed, generate and edit images with MAGE (Masked Generative Encoder) on ONNX Runtime.");
        root.Subcommands.Add(TokenizeCommand.Create(context, common));
        root.Subcommands.Add(EmbedCommand.Create(context, common));
        root.Subcommands.Add(GenerateCommand.Create(context, common));
        root.Subcommands.Add(EditCommands.Inpaint(context, common));
        root.Subcommands.Add(EditCommands.Outpaint(context, common));
        root.Subcommands.Add(EditCommands.Uncrop(context, common));
        root.Subcommands.Add(DecodeCommand.Create(context, common));
        root.Subcommands.Add(ModelCommands.Create(context, common));
        var storage = new StorageOptions();
        root.Subcommands.Add(JobCommands.Create(context, storage));
        root.Subcommands.Add(WorkerCommand.Create(context, common, storage));
        root.Subcommands.Add(ServeCommand.Create(context, common, storage));
        root.Subcommands.Add(StorageCommands.Blob(context, storage));
        root.Subcommands.Add(StorageCommands.Queue(context, storage));
        return root;
    }

    /// <summary>"mage tokenize", "mage model verify": the command words the user typed.</summary>
    private static string CommandPath(ParseResult parse)
    {
        var words = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult command; result = command.Parent)
        {
            words.Insert(0, command.Command is RootCommand ? "mage" : command.Command.Name);
        }

        return string.Join(' ', words);
    }
}
