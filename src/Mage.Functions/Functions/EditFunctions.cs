using Mage.Jobs.Requests;
using Microsoft.Azure.Functions.Worker;

namespace Mage.Functions.Functions;

/// <summary>Edits (inpaint, outpaint, uncrop) and unconditional generation.</summary>
public sealed class EditFunctions(EditService edits, GenerateService generate)
{
    [Function("ProcessEdit")]
    public Task ProcessEdit(
        [QueueTrigger("%Mage:Storage:EditsQueue%", Connection = "MageStorage")] string message,
        CancellationToken cancellationToken) =>
        edits.ProcessAsync(message, cancellationToken);

    [Function("ProcessGenerate")]
    public Task ProcessGenerate(
        [QueueTrigger("%Mage:Storage:GenerateQueue%", Connection = "MageStorage")] string message,
        CancellationToken cancellationToken) =>
        generate.ProcessAsync(message, cancellationToken);
}
