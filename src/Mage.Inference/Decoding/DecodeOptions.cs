namespace Mage.Inference.Decoding;

/// <summary>
/// Settings shared by every row of one decode call, on either loop (<see cref="DecodeLoop"/>).
/// Immutable; validated when the decode starts.
/// </summary>
/// <param name="Steps">Number of decoding iterations T, 1 .. <see cref="MageDefaults.MaxSteps"/>.</param>
/// <param name="Temperature">
/// Scale of the Gumbel noise added to the confidences, finite, 0 .. <see cref="MageDefaults.MaxTemperature"/>.
/// It does not scale the logits. Ignored when <paramref name="Deterministic"/>.
/// </param>
/// <param name="Deterministic">
/// Argmax instead of sampling and no confidence noise: the variant the model package's golden
/// outputs use.
/// </param>
public sealed record DecodeOptions(int Steps, double Temperature, bool Deterministic)
{
    internal void Validate()
    {
        if ((MageDefaults.CheckSteps(Steps, nameof(Steps)) ?? MageDefaults.CheckTemperature(Temperature, nameof(Temperature))) is { } problem)
        {
            throw new InvalidRequestException(problem);
        }
    }
}
