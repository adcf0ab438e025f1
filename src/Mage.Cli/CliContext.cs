using Mage.Cli.Console;

namespace Mage.Cli;

/// <summary>
/// Where one run of <c>mage</c> writes: results and tables to <see cref="Out"/>, notices,
/// progress and errors to <see cref="Error"/>. Both writers are synchronized, so concurrent
/// workers may write. Lives for one <see cref="CliApp.RunAsync"/> call.
/// </summary>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr, bool interactive, bool stdoutIsTerminal = false)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    /// <summary>True when stderr is a terminal, so progress may redraw a bar.</summary>
    public bool Interactive { get; } = interactive;

    /// <summary>True when stdout is a terminal, so tables may use colour.</summary>
    public bool StdoutIsTerminal { get; } = stdoutIsTerminal;

    public ProgressDisplay Progress => ProgressDisplay.For(Error, Interactive);

    /// <summary>Writes "mage: error: ..." to stderr.</summary>
    public void WriteError(string message) => Error.WriteLine($"mage: error: {message}");
}
