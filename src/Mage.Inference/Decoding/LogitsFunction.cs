namespace Mage.Inference.Decoding;

/// <summary>
/// Computes codebook logits for a batch of transformer rows; the decoder's only link to a model.
/// </summary>
/// <param name="ids">
/// <paramref name="rows"/> * 257 ids, row after row: position 0 is <see cref="MageTokens.FakeClassId"/>,
/// positions 1..256 the current tokens (codebook ids, or <see cref="MageTokens.MaskId"/> where
/// unknown). Valid only until the returned task completes.
/// </param>
/// <param name="rows">Number of rows, 1 or more.</param>
/// <param name="logits">
/// Receives <paramref name="rows"/> * 256 * 1024 floats: for each row and each of the positions
/// 1..256, the logits of the 1024 codebook ids. Every value must be finite.
/// </param>
/// <param name="cancellationToken">Cancels the model call.</param>
/// <remarks>
/// The decoder calls it once per step and never concurrently with itself within one decode. An
/// implementation must compute each row from that row's ids only (no cross-row dependence) or
/// results stop being independent of batch composition.
/// </remarks>
internal delegate ValueTask LogitsFunction(
    ReadOnlyMemory<long> ids, int rows, Memory<float> logits, CancellationToken cancellationToken);
