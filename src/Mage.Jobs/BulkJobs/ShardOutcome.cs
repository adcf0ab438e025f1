using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.BulkJobs;

/// <summary>What happened to one shard message.</summary>
/// <param name="Status"><see cref="Outcome.Committed"/>, <see cref="Outcome.AlreadyCommitted"/>, <see cref="Outcome.AlreadyCounted"/>, <see cref="Outcome.Failed"/> or <see cref="Outcome.Ignored"/>.</param>
/// <param name="Rows">Rows in the shard's part (with or without an embedding).</param>
/// <param name="Failed">Rows with an error.</param>
public sealed record ShardOutcome(Outcome Status, int Rows = 0, int Failed = 0);
