namespace Mage.Jobs.Coordination;

/// <summary>What a commit action did to the record it commits (<see cref="WorkCommits.CommitAsync"/>).</summary>
internal enum CommitResult
{
    /// <summary>This call committed the record: its event is published now.</summary>
    Committed,

    /// <summary>Another delivery committed it first: an event it left unpublished is published.</summary>
    CommittedBefore,

    /// <summary>Nothing was committed (the record took another turn): the staged event is dropped.</summary>
    NotCommitted,
}
