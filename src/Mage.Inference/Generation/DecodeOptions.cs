namespace Mage.Inference.Generation;

/// <summary>
/// Settings shared by every row of one <see cref="IterativeDecoder.DecodeAsync"/> call.
/// Immutable; validated when the decode starts.
/// </summary>
/// <param name="Steps">Number of decoding iterations T, 1 .. 256 (MAGE's defaults: 12; FID setting: 20).</param>
/// <param name="Temperature">
/// Scale of the Gumbel noise added to the confidences, finite and 0 or more (MAGE's defaults:
/// 4.5; FID setting: 6.0). It does not scale the logits. Ignored when <paramref name="Deterministic"/>.
/// </param>
/// <param name="Deterministic">
/// Argmax instead of sampling and no confidence noise: the variant the model package's golden
/// outputs use.
/// </param>
public sealed record DecodeOptions(int Steps, double Temperature, bool Deterministic)
{
    /// <summary>Largest accepted <see cref="Steps"/>.</summary>
    public const int MaxSteps = 256;

    internal void Validate()
    {
        if (Steps is < 1 or > MaxSteps)
        {
            throw new InvalidRequestException(
                $"Steps is {Steps}; it must be between 1 and {MaxSteps}.");
        }

        if (!double.IsFinite(Temperature) || Temperature < 0)
        {
            throw new InvalidRequestException(
                $"Temperature is {Temperature}; it must be a finite number, 0 or more.");
        }
    }
}
