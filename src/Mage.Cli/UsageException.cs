namespace Mage.Cli;

/// <summary>
/// The command line is wrong in a way the parser cannot see (a malformed box, two options that
/// exclude each other). Exits with <see cref="ExitCodes.Usage"/>.
/// </summary>
internal sealed class UsageException(string message) : Exception(message);
