namespace Mage.Jobs.Storage;

/// <summary>
/// Start-up stopped because a container or queue the app needs is missing and cannot be created,
/// or storage cannot be reached. The message (built by <see cref="StorageErrors"/>) names the
/// resource, the storage account and what would fix it. Public so that a host that runs the check
/// itself (<see cref="Hosting.MageServiceExtensions.EnsureMageStorageAsync"/>, <c>mage serve</c>) can report it.
/// </summary>
public sealed class StorageSetupException(string message, Exception? innerException = null)
    : Exception("Mage cannot start: " + message, innerException);
