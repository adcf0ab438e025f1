namespace Mage.Inference.Decoding;

/// <summary>One request to the device-loop decode batcher: a row, its schedule and who hears of its steps.</summary>
/// <param name="Row">The row to decode.</param>
/// <param name="Options">Steps, temperature and mode; rows with equal options share one decode.</param>
/// <param name="Progress">Receives the steps done of the decode that runs the row, or null.</param>
internal readonly record struct DecodeRequest(DecodeRow Row, DecodeOptions Options, IProgress<int>? Progress);
