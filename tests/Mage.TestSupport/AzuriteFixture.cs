using Xunit;

namespace Mage.TestSupport;

/// <summary>
/// Starts a real Azurite (blob and queue, in memory; see <see cref="AzuriteServer"/>) for an
/// xunit collection and stops it after the collection. One instance serves one collection;
/// <see cref="ConnectionString"/> is set once <see cref="InitializeAsync"/> has finished and is
/// safe to read from any thread after that.
/// </summary>
/// <remarks>
/// xunit 2 finds collection definitions only in the test assembly itself, so each test project
/// declares its own <c>[CollectionDefinition(AzuriteFixture.CollectionName)]</c> class with
/// <c>ICollectionFixture&lt;AzuriteFixture&gt;</c>.
/// </remarks>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The name of the xunit collection that shares one Azurite.</summary>
    public const string CollectionName = "Azurite";

    /// <summary>Azurite's well-known account key (of <c>devstoreaccount1</c>), for tests that sign their own SAS.</summary>
    public const string AccountKey = AzuriteServer.AccountKey;

    private AzuriteServer? server;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        server = await AzuriteServer.StartNewAsync().ConfigureAwait(false);
        ConnectionString = server.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A loopback port nothing listens on (as of the call).</summary>
    public static int FreePort() => AzuriteServer.FreePort();
}
