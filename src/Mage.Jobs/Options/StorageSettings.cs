using System.ComponentModel.DataAnnotations;

namespace Mage.Jobs.Options;

/// <summary>Container and queue names (configuration section <c>Mage:Storage</c>). Names follow Azure's rules: 3-63 lower-case letters, digits and single hyphens.</summary>
public sealed class StorageSettings
{
    public const string Section = "Mage:Storage";

    /// <summary>The configuration name of the storage connection the triggers and clients use.</summary>
    public const string Connection = "MageStorage";

    private const string NamePattern = "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$";
    private const string NameMessage = "must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.";

    [Required, RegularExpression(NamePattern, ErrorMessage = "UploadsContainer " + NameMessage)]
    public string UploadsContainer { get; set; } = "uploads";

    [Required, RegularExpression(NamePattern, ErrorMessage = "ResultsContainer " + NameMessage)]
    public string ResultsContainer { get; set; } = "results";

    [Required, RegularExpression(NamePattern, ErrorMessage = "JobsContainer " + NameMessage)]
    public string JobsContainer { get; set; } = "jobs";

    [Required, RegularExpression(NamePattern, ErrorMessage = "ModelsContainer " + NameMessage)]
    public string ModelsContainer { get; set; } = "models";

    [Required, RegularExpression(NamePattern, ErrorMessage = "JobsQueue " + NameMessage)]
    public string JobsQueue { get; set; } = "mage-jobs";

    [Required, RegularExpression(NamePattern, ErrorMessage = "ShardsQueue " + NameMessage)]
    public string ShardsQueue { get; set; } = "mage-shards";

    [Required, RegularExpression(NamePattern, ErrorMessage = "EditsQueue " + NameMessage)]
    public string EditsQueue { get; set; } = "mage-edits";

    [Required, RegularExpression(NamePattern, ErrorMessage = "GenerateQueue " + NameMessage)]
    public string GenerateQueue { get; set; } = "mage-generate";

    [Required, RegularExpression(NamePattern, ErrorMessage = "EventsQueue " + NameMessage)]
    public string EventsQueue { get; set; } = "mage-events";

    /// <summary>
    /// Create the uploads, results and jobs containers and every queue at start-up when they are
    /// missing (the default), and recreate the jobs or results container if it disappears later.
    /// False for deployments that forbid it: start-up then only checks that they exist and stops
    /// naming the first one missing. The models container is never created.
    /// </summary>
    public bool CreateMissing { get; set; } = true;

    /// <summary>The configured name of a work queue.</summary>
    public string QueueName(WorkQueue queue) => WorkQueues.Of(queue).NameIn(this);

    /// <summary>Every queue Mage uses: the work queues, then the events queue.</summary>
    public IEnumerable<string> AllQueueNames() => WorkQueues.All.Select(q => q.NameIn(this)).Append(EventsQueue);
}
