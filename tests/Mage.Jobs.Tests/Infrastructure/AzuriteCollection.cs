namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>The test classes that share one <see cref="AzuriteFixture"/>; xunit 2 needs this definition in the test assembly.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = AzuriteFixture.CollectionName;
}
