namespace Mage.Jobs.Requests;

/// <summary>
/// How <see cref="RequestLifecycle.StartAsync"/> found a request: finished already (a record exists,
/// or the message was refused and its error recorded), or readable and addressed.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="Request">The message, when it could be read.</param>
/// <param name="Target">Where its records go, when that could be worked out.</param>
/// <param name="Finished">The outcome when there is nothing more to do, else null.</param>
internal sealed record RequestStart<T>(T? Request, RequestTarget? Target, RequestOutcome? Finished)
    where T : class;
