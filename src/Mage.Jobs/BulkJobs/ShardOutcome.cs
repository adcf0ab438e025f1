using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.BulkJobs;

/// <summary>What happened to one shard message.</summary>
/// <param name="Status"><see cref="WorkOutcome.Committed"/>, <see cref="WorkOutcome.AlreadyCommitted"/>, <see cref="WorkOutcome.AlreadyCounted"/>, <see cref="WorkOutcome.Failed"/> or <see cref="WorkOutcome.Ignored"/>.</param>
/// <param name="Rows">Rows in the shard's part (with or without an embedding).</param>
/// <param name="Failed">Rows with an error.</param>
public sealed record ShardOutcome(WorkOutcome Status, int Rows = 0, int Failed = 0);
