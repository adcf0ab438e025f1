namespace Mage.Infra.Tests.Docker;

/// <summary>One instruction: upper-case keyword and its argument text.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments);
