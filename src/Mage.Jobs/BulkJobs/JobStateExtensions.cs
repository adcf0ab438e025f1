namespace Mage.Jobs.BulkJobs;

/// <summary>Questions about a <see cref="JobState"/>.</summary>
internal static class JobStateExtensions
{
    /// <summary>True for the states a job never leaves: completed and failed.</summary>
    public static bool IsFinal(this JobState state) => state is JobState.Completed or JobState.Failed;
}
