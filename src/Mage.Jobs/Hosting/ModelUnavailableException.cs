namespace Mage.Jobs.Hosting;

/// <summary>
/// This process has loaded no model, so nothing can be embedded here (<c>mage serve</c> without
/// <c>--with-worker</c>). The message says how to start a process that has one.
/// </summary>
public sealed class ModelUnavailableException(string message) : InvalidOperationException(message);
