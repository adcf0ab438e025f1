namespace Mage.Inference.Decoding;

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
public sealed record DecodeRow(long[] InitialTokens, ulong Seed, long ImageIndex)
{
    /// <summary>A row with every position unknown: unconditional generation.</summary>
    /// <param name="seed">Random seed.</param>
    /// <param name="imageIndex">Distinguishes images that share a seed.</param>
    /// <returns>A new row over a new array of 256 <see cref="MageTokens.MaskId"/>.</returns>
    public static DecodeRow AllMasked(ulong seed, long imageIndex)
    {
        var tokens = new long[MageTokens.Count];
        Array.Fill(tokens, MageTokens.MaskId);
        return new DecodeRow(tokens, seed, imageIndex);
    }
}
