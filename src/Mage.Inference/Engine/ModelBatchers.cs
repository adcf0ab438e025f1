using System.Buffers;
using Mage.Inference.Batching;
using Mage.Inference.Decoding;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Microsoft.Extensions.Logging;

namespace Mage.Inference.Engine;

/// <summary>
/// The engine's request batchers, one per kind of model call (tokenize, pooled features, logits
/// rows of the host loop, whole decodes of the device loop, detokenize), and the batch functions
/// that turn each batch into one call of the <see cref="MageModel"/>.
/// </summary>
/// <remarks>
/// Thread-safe. Owns the batchers: <see cref="DisposeAsync"/> drains them. Does not own the model.
/// </remarks>
internal sealed class ModelBatchers : IAsyncDisposable
{
    private const int LogitsPerRow = MageTokens.Count * MageTokens.CodebookSize;

    private readonly RequestBatcher<float[], long[]> tokenizeBatcher;
    private readonly RequestBatcher<FeatureRequest, float[]> featureBatcher;
    private readonly RequestBatcher<LogitsRow, bool> logitsBatcher;
    private readonly RequestBatcher<DecodeRequest, long[]> decodeBatcher;
    private readonly RequestBatcher<long[], float[]> detokenizeBatcher;

    /// <param name="model">The model every batch runs on.</param>
    /// <param name="options">The batching settings of each batcher.</param>
    /// <param name="decodesOnDevice">Whether decodes run on the device (through the decode batcher) or on the host (through the logits batcher).</param>
    /// <param name="logger">Receives the batchers' logs.</param>
    public ModelBatchers(MageModel model, MageEngineOptions options, bool decodesOnDevice, ILogger logger)
    {
        Model = model;
        DecodesOnDevice = decodesOnDevice;
        tokenizeBatcher = new(options.Tokenize, logger, TokenizeBatch);
        featureBatcher = new(options.Features, logger, FeatureBatch);
        logitsBatcher = new(options.Logits, logger, LogitsBatch);
        decodeBatcher = new(options.Decode, logger, DecodeBatch);

        // One detokenizer run at a time, like every other graph: concurrent generations and edits
        // each running their own would each hold a full batch of 256x256 activations (docs/benchmarks.md, Memory).
        detokenizeBatcher = new(new BatcherOptions { Name = "detokenize", MaxBatchSize = options.DetokenizeBatch }, logger, DetokenizeBatch);
    }

    /// <summary>The model every batch runs on.</summary>
    public MageModel Model { get; }

    /// <summary>Whether decodes run on the device (through the decode batcher) or on the host (through the logits batcher).</summary>
    public bool DecodesOnDevice { get; }

    /// <summary>Batch statistics of the tokenizer, feature and logits batchers.</summary>
    public (BatcherStatistics Tokenize, BatcherStatistics Features, BatcherStatistics Logits) Statistics =>
        (tokenizeBatcher.GetStatistics(), featureBatcher.GetStatistics(), logitsBatcher.GetStatistics());

    /// <summary>Batch statistics of the detokenizer.</summary>
    public BatcherStatistics DetokenizeStatistics => detokenizeBatcher.GetStatistics();

    /// <summary>Batch statistics of whole decodes on the device.</summary>
    public BatcherStatistics DecodeStatistics => decodeBatcher.GetStatistics();

    /// <summary>Tokenizes one [3, 256, 256] image; the batcher keeps the array until the request completes.</summary>
    public Task<long[]> TokenizeAsync(float[] pixels, CancellationToken cancellationToken) =>
        tokenizeBatcher.SubmitAsync(pixels, cancellationToken);

    /// <summary>The pooled feature of one validated token grid.</summary>
    public Task<float[]> FeaturesAsync(long[] tokens, FeaturePooling pooling, CancellationToken cancellationToken) =>
        featureBatcher.SubmitAsync(new FeatureRequest(tokens, pooling), cancellationToken);

    /// <summary>The [3, 256, 256] image of one validated token grid.</summary>
    public Task<float[]> DetokenizeAsync(long[] tokens, CancellationToken cancellationToken) =>
        detokenizeBatcher.SubmitAsync(tokens, cancellationToken);

    /// <summary>
    /// Runs the schedule for rows of one request: on the host with every step shared through the
    /// logits batcher, or on the device with the whole decode shared through the decode batcher.
    /// Progress (steps done within this decode) follows the first row.
    /// </summary>
    public async Task<long[][]> DecodeAsync(DecodeRow[] rows, DecodeOptions options, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        if (!DecodesOnDevice)
        {
            return await HostDecodeLoop.DecodeAsync(rows, options, BatchedLogitsAsync, progress, cancellationToken).ConfigureAwait(false);
        }

        var pending = new Task<long[]>[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            pending[i] = decodeBatcher.SubmitAsync(new DecodeRequest(rows[i], options, i == 0 ? progress : null), cancellationToken);
        }

        return await Task.WhenAll(pending).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await tokenizeBatcher.DisposeAsync().ConfigureAwait(false);
        await featureBatcher.DisposeAsync().ConfigureAwait(false);
        await logitsBatcher.DisposeAsync().ConfigureAwait(false);
        await decodeBatcher.DisposeAsync().ConfigureAwait(false);
        await detokenizeBatcher.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The host loop's logits source: each row goes to the shared logits batcher, so rows of concurrent requests share model calls.</summary>
    private async ValueTask BatchedLogitsAsync(ReadOnlyMemory<long> ids, int rows, Memory<float> logits, CancellationToken cancellationToken)
    {
        var pending = new Task[rows];
        for (var r = 0; r < rows; r++)
        {
            pending[r] = logitsBatcher.SubmitAsync(
                new LogitsRow(ids.Slice(r * MageTokens.SequenceLength, MageTokens.SequenceLength), logits.Slice(r * LogitsPerRow, LogitsPerRow)),
                cancellationToken);
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private ValueTask<IReadOnlyList<BatchItemResult<long[]>>> TokenizeBatch(IReadOnlyList<float[]> requests, CancellationToken cancellationToken)
    {
        const int perImage = PixelTensor.FloatsPerImage;
        var n = requests.Count;
        var pixels = ArrayPool<float>.Shared.Rent(n * perImage);
        try
        {
            for (var i = 0; i < n; i++)
            {
                requests[i].CopyTo(pixels, i * perImage);
            }

            var tokens = new long[n * MageTokens.Count];
            Model.Tokenize(pixels.AsMemory(0, n * perImage), n, tokens, cancellationToken);
            var results = new BatchItemResult<long[]>[n];
            for (var i = 0; i < n; i++)
            {
                results[i] = BatchItemResult<long[]>.Success(tokens.AsSpan(i * MageTokens.Count, MageTokens.Count).ToArray());
            }

            return ValueTask.FromResult<IReadOnlyList<BatchItemResult<long[]>>>(results);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pixels);
        }
    }

    private ValueTask<IReadOnlyList<BatchItemResult<float[]>>> DetokenizeBatch(IReadOnlyList<long[]> requests, CancellationToken cancellationToken)
    {
        const int perImage = PixelTensor.FloatsPerImage;
        var n = requests.Count;
        var ids = new long[n * MageTokens.Count];
        for (var i = 0; i < n; i++)
        {
            requests[i].CopyTo(ids, i * MageTokens.Count);
        }

        var pixels = ArrayPool<float>.Shared.Rent(n * perImage);
        try
        {
            Model.Detokenize(ids, n, pixels.AsMemory(0, n * perImage), cancellationToken);
            var results = new BatchItemResult<float[]>[n];
            for (var i = 0; i < n; i++)
            {
                results[i] = BatchItemResult<float[]>.Success(pixels.AsSpan(i * perImage, perImage).ToArray());
            }

            return ValueTask.FromResult<IReadOnlyList<BatchItemResult<float[]>>>(results);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(pixels);
        }
    }

    private ValueTask<IReadOnlyList<BatchItemResult<float[]>>> FeatureBatch(IReadOnlyList<FeatureRequest> requests, CancellationToken cancellationToken)
    {
        var results = new BatchItemResult<float[]>[requests.Count];
        var dim = Model.FeatureDim;
        foreach (var group in requests.Select((r, i) => (r, i)).GroupBy(x => x.r.Pooling))
        {
            var members = group.ToArray();
            var tokens = new long[members.Length * MageTokens.Count];
            for (var k = 0; k < members.Length; k++)
            {
                members[k].r.Tokens.CopyTo(tokens, k * MageTokens.Count);
            }

            var features = new float[members.Length * dim];
            Model.Features(tokens, members.Length, group.Key, features, cancellationToken);
            for (var k = 0; k < members.Length; k++)
            {
                results[members[k].i] = BatchItemResult<float[]>.Success(features.AsSpan(k * dim, dim).ToArray());
            }
        }

        return ValueTask.FromResult<IReadOnlyList<BatchItemResult<float[]>>>(results);
    }

    private ValueTask<IReadOnlyList<BatchItemResult<bool>>> LogitsBatch(IReadOnlyList<LogitsRow> requests, CancellationToken cancellationToken)
    {
        var n = requests.Count;
        var ids = ArrayPool<long>.Shared.Rent(n * MageTokens.SequenceLength);
        var logits = ArrayPool<float>.Shared.Rent(n * LogitsPerRow);
        try
        {
            for (var i = 0; i < n; i++)
            {
                requests[i].Ids.Span.CopyTo(ids.AsSpan(i * MageTokens.SequenceLength));
            }

            Model.Logits(ids.AsMemory(0, n * MageTokens.SequenceLength), n, logits.AsMemory(0, n * LogitsPerRow), cancellationToken);
            var results = new BatchItemResult<bool>[n];
            for (var i = 0; i < n; i++)
            {
                logits.AsSpan(i * LogitsPerRow, LogitsPerRow).CopyTo(requests[i].Logits.Span);
                results[i] = BatchItemResult<bool>.Success(true);
            }

            return ValueTask.FromResult<IReadOnlyList<BatchItemResult<bool>>>(results);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<float>.Shared.Return(logits);
        }
    }

    private ValueTask<IReadOnlyList<BatchItemResult<long[]>>> DecodeBatch(IReadOnlyList<DecodeRequest> requests, CancellationToken cancellationToken)
    {
        var results = new BatchItemResult<long[]>[requests.Count];
        foreach (var group in requests.Select((request, index) => (request, index)).GroupBy(x => x.request.Options))
        {
            var members = group.ToArray();
            var progress = FanOutProgress.Create(members.Select(m => m.request.Progress));
            var decoded = Model.Decode(members.Select(m => m.request.Row).ToArray(), group.Key, progress, cancellationToken);
            for (var k = 0; k < members.Length; k++)
            {
                results[members[k].index] = BatchItemResult<long[]>.Success(decoded[k]);
            }
        }

        return ValueTask.FromResult<IReadOnlyList<BatchItemResult<long[]>>>(results);
    }
}
