namespace Mage.Jobs.BulkJobs;

/// <summary>The result of parsing a job: a spec, or the reason it was refused and whatever job id could be salvaged.</summary>
internal sealed record JobParseResult(JobSpec? Spec, string? Error, string? JobId)
{
    public bool IsValid => Spec is not null;
}
