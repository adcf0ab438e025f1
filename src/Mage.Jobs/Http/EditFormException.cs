using System.Net;

namespace Mage.Jobs.Http;

/// <summary>A <c>multipart/form-data</c> edit body refused while it is read (<see cref="EditForm.ReadAsync"/>): the answer's status and a message that names the part first.</summary>
internal sealed class EditFormException(HttpStatusCode status, string message, string? field, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>The part (or header) at fault, for the answer's <c>field</c>; null when it is the body as a whole.</summary>
    public string? Field { get; } = field;

    /// <summary>400, or 413 for a body or part over its cap.</summary>
    public HttpStatusCode Status { get; } = status;
}
