using System.ComponentModel.DataAnnotations;
using Mage.Jobs.Storage;

namespace Mage.Jobs.Options;

/// <summary>Container and queue names (configuration section <c>Mage:Storage</c>). Names follow Azure's rules: 3-63 lower-case letters, digits and single hyphens.</summary>
public sealed class StorageSettings : IValidatableObject
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
    /// The containers a job or an edit may read images from, comma-separated; empty (the default):
    /// the uploads container alone. A message naming any other container is refused.
    /// </summary>
    public string SourceContainers { get; set; } = "";

    /// <summary>
    /// The containers a job, an edit or a generation may write results to, comma-separated; empty
    /// (the default): the results container alone. A message naming any other container is refused.
    /// </summary>
    public string OutputContainers { get; set; } = "";

    /// <summary>The containers messages may read from (<see cref="SourceContainers"/>, or the uploads container).</summary>
    public IReadOnlyList<string> Sources => ListOr(SourceContainers, UploadsContainer);

    /// <summary>The containers messages may write to (<see cref="OutputContainers"/>, or the results container).</summary>
    public IReadOnlyList<string> Outputs => ListOr(OutputContainers, ResultsContainer);

    /// <summary>
    /// Create the uploads, results and jobs containers and every queue at start-up when they are
    /// missing (the default), and recreate the jobs or results container if it disappears later.
    /// False for deployments that forbid it: start-up then only checks that they exist and stops
    /// naming the first one missing. The models container is never created.
    /// </summary>
    public bool CreateMissing { get; set; } = true;

    /// <summary>Null when a message may read <paramref name="container"/>, else why not, naming <paramref name="field"/> and the allowed list.</summary>
    public string? CheckSource(string container, string field) =>
        Sources.Contains(container, StringComparer.Ordinal) ? null : $"{field} '{container}' is not a container this service reads from; allowed: {string.Join(", ", Sources)}.";

    /// <summary>Null when a message may write to <paramref name="container"/>, else why not, naming <paramref name="field"/> and the allowed list.</summary>
    public string? CheckOutput(string container, string field) =>
        Outputs.Contains(container, StringComparer.Ordinal) ? null : $"{field} '{container}' is not a container this service writes to; allowed: {string.Join(", ", Outputs)}.";

    /// <summary>
    /// Null when a message may read blob <paramref name="name"/> of a source container it may use,
    /// else why not, naming <paramref name="field"/>: the images multipart edits stored
    /// (<see cref="ResultsLayout.ApiUploadsFolder"/> of the uploads container) are their senders'
    /// alone, so no JSON edit, job row or job listing reads them.
    /// </summary>
    internal string? CheckSourceBlob(string container, string? name, string field) =>
        IsPrivateUpload(container, name)
            ? $"{field} lies under {ResultsLayout.ApiUploadsFolder} of the uploads container, where the images sent with multipart edits are kept for their senders alone; name your own uploads."
            : null;

    /// <summary>Whether <paramref name="name"/> of <paramref name="container"/> is an image a multipart edit stored for its sender (see <see cref="CheckSourceBlob"/>).</summary>
    internal bool IsPrivateUpload(string container, string? name) =>
        container == UploadsContainer && name?.StartsWith(ResultsLayout.ApiUploadsFolder, StringComparison.Ordinal) == true;

    /// <summary>
    /// Whether <paramref name="container"/> holds the service's own state: the jobs and models
    /// containers and the Functions host's <c>azure-webjobs-*</c> containers. Never a source or an output.
    /// </summary>
    public bool IsServiceContainer(string container) =>
        container == JobsContainer || container == ModelsContainer || container.StartsWith("azure-webjobs-", StringComparison.Ordinal);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (setting, list) in new[] { (nameof(SourceContainers), Sources), (nameof(OutputContainers), Outputs) })
        {
            foreach (var container in list)
            {
                if (!System.Text.RegularExpressions.Regex.IsMatch(container, NamePattern))
                {
                    yield return new ValidationResult($"{setting} names '{container}', which {NameMessage}", [setting]);
                }
                else if (IsServiceContainer(container))
                {
                    yield return new ValidationResult($"{setting} names '{container}', a container that holds the service's own state; it can never be a source or an output.", [setting]);
                }
            }
        }

        if (Outputs.Contains(UploadsContainer, StringComparer.Ordinal))
        {
            yield return new ValidationResult($"{nameof(OutputContainers)} names the uploads container '{UploadsContainer}': every image written there would be embedded as an upload.", [nameof(OutputContainers)]);
        }
    }

    private static string[] ListOr(string list, string fallback)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return names.Length == 0 ? [fallback] : names;
    }

    /// <summary>The configured name of a work queue.</summary>
    public string QueueName(WorkQueue queue) => WorkQueues.Of(queue).NameIn(this);

    /// <summary>Every queue Mage uses: the work queues, then the events queue.</summary>
    public IEnumerable<string> AllQueueNames() => WorkQueues.All.Select(q => q.NameIn(this)).Append(EventsQueue);
}
