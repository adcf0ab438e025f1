namespace Mage.Inference.Generation;

/// <summary>
/// One image to decode: its starting tokens and the keys of its random numbers.
/// </summary>
/// <param name="InitialTokens">
/// 256 ids, row-major: codebook ids 0..1023 are known and kept, <see cref="MageTokens.MaskId"/>
/// marks a position to generate. The decoder reads it and never writes it.
/// </param>
/// <param name="Seed">Random seed; with <paramref name="ImageIndex"/> it fixes the row's result.</param>
/// <param name="ImageIndex">
/// Distinguishes images that share a seed (for example the index of the image in a request).
/// </param>
public sealed record DecodeRow(long[] InitialTokens, ulong Seed, long ImageIndex);
