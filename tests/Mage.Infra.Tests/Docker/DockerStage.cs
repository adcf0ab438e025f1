namespace Mage.Infra.Tests.Docker;

/// <summary>One build stage: base image, optional name, its instructions.</summary>
internal sealed record DockerStage(string BaseImage, string? Name, List<DockerInstruction> Instructions);
