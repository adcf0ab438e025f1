namespace Mage.Benchmarks.Coordination;

/// <summary>One request of <see cref="RequestTally.Timeline"/>: sent <see cref="SentMs"/> after the reset, answered <see cref="TookMs"/> later; <see cref="Key"/> as the tally counts it.</summary>
internal sealed record TimedRequest(double SentMs, double TookMs, string Key);
