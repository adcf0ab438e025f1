namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>What <see cref="CrashPoint"/> throws: a delivery killed at a chosen request.</summary>
internal sealed class CrashException(string message) : Exception(message);
