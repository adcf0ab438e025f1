namespace Mage.Cli;

/// <summary>The process exit codes of <c>mage</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Success = 0;

    /// <summary>
    /// Some or all of the work failed: an input file could not be read or used, a model package
    /// is invalid or fails verification, the model could not run. Everything that could be done
    /// was done and written first.
    /// </summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown command or option, missing or malformed value.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C or SIGTERM), as shells report SIGINT. <c>mage worker</c> exits 0 instead: stopping is how it ends.</summary>
    public const int Cancelled = 130;
}
