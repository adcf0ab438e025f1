namespace Mage.Cli;

/// <summary>One image to read: its path, and the name it is recorded under (the path as given on the command line).</summary>
internal sealed record InputFile(string Path, string Name);
