using System.Net;

namespace Mage.Jobs.Http;

/// <summary>A <c>multipart/form-data</c> edit body refused while it is read (<see cref="EditForm.ReadAsync"/>): the answer's status and a message that names the part first.</summary>
internal sealed class EditFormException(HttpStatusCode status, string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>400, or 413 for a body or part over its cap.</summary>
    public HttpStatusCode Status { get; } = status;
}
