namespace Mage.Infra.Tests.Bicep;

/// <summary>Test classes that read the one <see cref="SnapshotFixture"/> (a snapshot takes seconds of CPU).</summary>
[CollectionDefinition(Name)]
public sealed class SnapshotCollection : ICollectionFixture<SnapshotFixture>
{
    public const string Name = "Deployment snapshot";
}
