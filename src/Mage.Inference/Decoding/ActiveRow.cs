namespace Mage.Inference.Decoding;

/// <summary>A row of a decode call that has unknown positions (the only rows that reach the model).</summary>
/// <param name="Index">Its index in the call, or -1 for a row that only pads a fixed-size batch.</param>
/// <param name="Row">The row.</param>
/// <param name="InitialUnknown">U0: its number of unknown positions before the first step.</param>
internal readonly record struct ActiveRow(int Index, DecodeRow Row, int InitialUnknown);
