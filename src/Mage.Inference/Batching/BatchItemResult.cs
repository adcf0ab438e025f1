namespace Mage.Inference.Batching;

/// <summary>
/// The outcome of one request inside a batch: either a value or the exception that request alone
/// should fail with. Immutable and thread-safe. Returning a failure for one item, rather than
/// throwing from the batch function, keeps a bad input from failing its neighbours.
/// </summary>
internal sealed class BatchItemResult<TResult>
{
    private readonly TResult value;

    private BatchItemResult(TResult value, Exception? error)
    {
        this.value = value;
        Error = error;
    }

    /// <summary>The exception for a failed item; <see langword="null"/> on success.</summary>
    public Exception? Error { get; }

    public bool IsSuccess => Error is null;

    /// <summary>The value of a successful item.</summary>
    /// <exception cref="InvalidOperationException">The item failed; see <see cref="Error"/>.</exception>
    public TResult Value => Error is null
        ? value
        : throw new InvalidOperationException("The batch item failed and has no value; see Error.", Error);

    // CA1000: the static factories on the generic type are the documented way to build a
    // result inside a batch function, where TResult is already known from the signature.
#pragma warning disable CA1000
    public static BatchItemResult<TResult> Success(TResult value) => new(value, null);

    public static BatchItemResult<TResult> Failure(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new BatchItemResult<TResult>(default!, error);
    }
#pragma warning restore CA1000
}
