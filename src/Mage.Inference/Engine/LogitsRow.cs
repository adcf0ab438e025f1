namespace Mage.Inference.Engine;

/// <summary>
/// One request to the logits batcher: a transformer row of the host loop and where its logits go.
/// Both views belong to the decode that submitted the row and stay valid until the request completes.
/// </summary>
/// <param name="Ids">257 ids: the fake class, then codebook ids or the mask id.</param>
/// <param name="Logits">Receives 256 x 1024 logits.</param>
internal readonly record struct LogitsRow(ReadOnlyMemory<long> Ids, Memory<float> Logits);
