using Spectre.Console;

namespace Mage.Cli.Console;

/// <summary>Where commands draw tables.</summary>
internal static class CliTables
{
    /// <summary>A Spectre console over stdout: plain text (no colour codes) when stdout is not a terminal, wide enough for hashes.</summary>
    public static IAnsiConsole For(CliContext context)
    {
        var terminal = context.StdoutIsTerminal;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Out),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 160;
        }

        return console;
    }
}
