using System.Buffers;
using System.Diagnostics;
using Mage.Inference.Batching;
using Mage.Inference.Editing;
using Mage.Inference.Generation;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Mage.Inference.Engine;

/// <summary>
/// Everything Mage does with a model, for many concurrent callers: decode untrusted images,
/// tokenize, embed, generate, inpaint, outpaint and uncrop. Requests from all callers are merged
/// into batches (one batcher per graph), and a bad request fails alone.
/// </summary>
/// <remarks>
/// Thread-safe; meant to be one singleton per model. It does not own the <see cref="MageModel"/>;
/// dispose the engine (which drains queued work) before the model.
/// </remarks>
public sealed class MageEngine : IAsyncDisposable
{
    private const int PixelsPerImage = 3 * MageTokens.ImageSize * MageTokens.ImageSize;
    private const int LogitsPerRow = MageTokens.Count * MageTokens.CodebookSize;

    private readonly ILogger logger;
    private readonly RequestBatcher<float[], long[]> tokenizeBatcher;
    private readonly RequestBatcher<FeatureRequest, float[]> featureBatcher;
    private readonly RequestBatcher<LogitsRow, bool> logitsBatcher;
    private readonly RequestBatcher<DecodeJob, long[]> decodeBatcher;

    public MageEngine(MageModel model, MageEngineOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Options = options ?? new MageEngineOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.DetokenizeBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.GenerateChunk, 1);
        this.logger = logger ?? NullLogger.Instance;
        tokenizeBatcher = new(Options.Tokenize, this.logger, TokenizeBatch);
        featureBatcher = new(Options.Features, this.logger, FeatureBatch);
        logitsBatcher = new(Options.Logits, this.logger, LogitsBatch);
        decodeBatcher = new(Options.Decode, this.logger, DecodeBatch);
        DecodesOnDevice = Options.Loop switch
        {
            DecodeLoop.Host => false,
            DecodeLoop.Device => true,
            _ => model.Device.IsCuda,
        };
        this.logger.LogInformation("Decoding schedule runs on the {Where}", DecodesOnDevice ? "device (sampler graph)" : "host");
    }

    /// <summary>Whether generation and editing run the schedule on the device (<see cref="MageEngineOptions.Loop"/> resolved).</summary>
    public bool DecodesOnDevice { get; }

    /// <summary>Batch statistics of whole decodes on the device (empty when the schedule runs on the host).</summary>
    public BatcherStatistics DecodeStatistics => decodeBatcher.GetStatistics();

    /// <summary>The model the engine runs.</summary>
    public MageModel Model { get; }

    /// <summary>Limits and batching.</summary>
    public MageEngineOptions Options { get; }

    /// <summary>Batch statistics of the tokenizer, feature and logits batchers, for logs and benchmarks.</summary>
    public (BatcherStatistics Tokenize, BatcherStatistics Features, BatcherStatistics Logits) Statistics =>
        (tokenizeBatcher.GetStatistics(), featureBatcher.GetStatistics(), logitsBatcher.GetStatistics());

    /// <summary>Decodes an untrusted image within <see cref="MageEngineOptions.Limits"/>. The caller owns the result.</summary>
    /// <exception cref="ImageDecodeException">Empty, not an image, unsupported, too large or corrupt.</exception>
    public Image<Rgb24> LoadImage(ReadOnlyMemory<byte> data, string? sourceName = null) =>
        ImageLoader.Load(data, Options.Limits, sourceName);

    /// <summary>Tokenizes a 256x256 image.</summary>
    public Task<long[]> TokenizeAsync(Image<Rgb24> image, CancellationToken cancellationToken = default)
    {
        RequireCanvas(image, nameof(image));
        return tokenizeBatcher.SubmitAsync(PixelTensor.ToChw(image), cancellationToken);
    }

    /// <summary>Decodes, preprocesses and tokenizes an encoded image.</summary>
    public async Task<long[]> TokenizeAsync(ReadOnlyMemory<byte> encoded, PreprocessMode preprocess, string? sourceName = null, CancellationToken cancellationToken = default)
    {
        var (pixels, _, _) = await DecodeToChwAsync(encoded, preprocess, sourceName, cancellationToken).ConfigureAwait(false);
        return await tokenizeBatcher.SubmitAsync(pixels, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The pooled feature of a token grid.</summary>
    /// <param name="tokens">256 codebook ids.</param>
    /// <param name="pooling">Which feature.</param>
    /// <param name="normalize">Scale to unit L2 norm.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<float[]> FeaturesAsync(long[] tokens, FeaturePooling pooling, bool normalize = false, CancellationToken cancellationToken = default)
    {
        CheckTokens(tokens, 0, nameof(tokens));
        var features = await featureBatcher.SubmitAsync(new FeatureRequest(tokens, pooling), cancellationToken).ConfigureAwait(false);
        if (normalize)
        {
            Normalize(features);
        }

        return features;
    }

    /// <summary>Decodes an encoded image and returns its tokens and feature.</summary>
    /// <exception cref="ImageDecodeException">The bytes are not an acceptable image.</exception>
    /// <exception cref="InvalidRequestException">The image cannot be preprocessed as asked.</exception>
    public async Task<ImageEmbedding> EmbedAsync(ReadOnlyMemory<byte> encoded, EmbedOptions? options = null, string? sourceName = null, CancellationToken cancellationToken = default)
    {
        options ??= new EmbedOptions();
        var decodeTimer = Stopwatch.StartNew();
        var (pixels, width, height) = await DecodeToChwAsync(encoded, options.Preprocess, sourceName, cancellationToken).ConfigureAwait(false);
        var decodeTime = decodeTimer.Elapsed;
        var inferenceTimer = Stopwatch.StartNew();
        var tokens = await tokenizeBatcher.SubmitAsync(pixels, cancellationToken).ConfigureAwait(false);
        var features = await FeaturesAsync(tokens, options.Pooling, options.Normalize, cancellationToken).ConfigureAwait(false);
        return new ImageEmbedding(tokens, features, options, width, height, decodeTime, inferenceTimer.Elapsed);
    }

    /// <summary>Token grids to images. The caller owns the images.</summary>
    public async Task<Image<Rgb24>[]> DetokenizeAsync(IReadOnlyList<long[]> tokens, CancellationToken cancellationToken = default)
    {
        var pixels = await DetokenizeChwAsync(tokens, cancellationToken).ConfigureAwait(false);
        return [.. pixels.Select(p => PixelTensor.FromChw(p, MageTokens.ImageSize, MageTokens.ImageSize))];
    }

    /// <summary>Generates token grids (MODEL.md section 4).</summary>
    /// <param name="request">Count, seed and schedule.</param>
    /// <param name="progress">Receives the number of decoding steps done, over all chunks.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public async Task<long[][]> GenerateTokensAsync(GenerateRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count is < 1 or > GenerateRequest.MaxCount)
        {
            throw new InvalidRequestException($"Count {request.Count} is out of range 1..{GenerateRequest.MaxCount}.");
        }

        if (request.FirstIndex < 0)
        {
            throw new InvalidRequestException($"FirstIndex {request.FirstIndex} must be 0 or more.");
        }

        var decode = new DecodeOptions(request.Steps, request.Temperature, request.Deterministic);
        var results = new long[request.Count][];
        for (var start = 0; start < request.Count; start += Options.GenerateChunk)
        {
            var count = Math.Min(Options.GenerateChunk, request.Count - start);
            var rows = new DecodeRow[count];
            for (var i = 0; i < count; i++)
            {
                var initial = new long[MageTokens.Count];
                Array.Fill(initial, MageTokens.MaskId);
                rows[i] = new DecodeRow(initial, request.Seed, request.FirstIndex + start + i);
            }

            var done = start / Options.GenerateChunk * request.Steps;
            var chunkProgress = OffsetProgress.Create(progress, done);
            var decoded = await DecodeRowsAsync(rows, decode, chunkProgress, cancellationToken).ConfigureAwait(false);
            decoded.CopyTo(results, start);
        }

        logger.LogInformation("Generated {Count} token grids (seed {Seed}, {Steps} steps, temperature {Temperature}, deterministic {Deterministic})",
            request.Count, request.Seed, request.Steps, request.Temperature, request.Deterministic);
        return results;
    }

    /// <summary>Generates images. The caller owns them.</summary>
    public async Task<IReadOnlyList<GeneratedImage>> GenerateAsync(GenerateRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var tokens = await GenerateTokensAsync(request, progress, cancellationToken).ConfigureAwait(false);
        var images = await DetokenizeAsync(tokens, cancellationToken).ConfigureAwait(false);
        return [.. tokens.Select((t, i) => new GeneratedImage(request.FirstIndex + i, t, images[i]))];
    }

    /// <summary>Inpaints the given tokens of a 256x256 image.</summary>
    /// <param name="image">The 256x256 input (see <see cref="ImagePreprocessor"/>).</param>
    /// <param name="unknown">The tokens to generate; at least one.</param>
    /// <param name="options">Schedule and blending.</param>
    /// <param name="progress">Receives the number of decoding steps done.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public async Task<EditResult> InpaintAsync(Image<Rgb24> image, TokenMask unknown, EditOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        RequireCanvas(image, nameof(image));
        ArgumentNullException.ThrowIfNull(unknown);
        options ??= new EditOptions();
        if (unknown.Count == 0)
        {
            throw new InvalidRequestException("The inpainting mask covers no token: nothing to generate. Mark at least one pixel.");
        }

        var original = PixelTensor.ToChw(image);
        var tokens = await tokenizeBatcher.SubmitAsync(original, cancellationToken).ConfigureAwait(false);
        var decoded = await DecodeEditAsync(unknown.Apply(tokens), imageIndex: 0, options, progress, cancellationToken).ConfigureAwait(false);
        var generated = (await DetokenizeChwAsync([decoded], cancellationToken).ConfigureAwait(false))[0];
        if (options.Blend)
        {
            var edit = new bool[MageTokens.ImageSize * MageTokens.ImageSize];
            unknown.ToPixelMask(edit);
            PixelBlend.BlendOutsideEdit(original, generated, edit, MageTokens.ImageSize, MageTokens.ImageSize, options.FeatherPixels, generated);
        }

        return new EditResult(PixelTensor.FromChw(generated, MageTokens.ImageSize, MageTokens.ImageSize), [decoded], [unknown], [new Point(0, 0)]);
    }

    /// <summary>Inpaints where a pixel mask is set (a token is generated if its patch holds any masked pixel).</summary>
    /// <param name="image">The 256x256 input.</param>
    /// <param name="pixelMask">256*256 flags, row-major, true = edit.</param>
    /// <param name="dilateTokens">Grow the token mask by this many tokens (0..16).</param>
    /// <param name="options">Schedule and blending.</param>
    /// <param name="progress">Receives the number of decoding steps done.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public Task<EditResult> InpaintAsync(Image<Rgb24> image, bool[] pixelMask, int dilateTokens = 0, EditOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pixelMask);
        return InpaintAsync(image, TokenMask.FromPixelMask(pixelMask).Dilate(dilateTokens), options, progress, cancellationToken);
    }

    /// <summary>Inpaints inside boxes (pixels on the 256x256 image).</summary>
    public Task<EditResult> InpaintAsync(Image<Rgb24> image, IEnumerable<PixelBox> boxes, int dilateTokens = 0, EditOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        InpaintAsync(image, TokenMask.FromBoxes(boxes).Dilate(dilateTokens), options, progress, cancellationToken);

    /// <summary>
    /// Extends an image by the given margins, one 256x256 window at a time, each window
    /// conditioned on what is already known. With <see cref="EditOptions.Blend"/> only new pixels
    /// are written, so the original stays exact; without it every pixel of a generated token is.
    /// </summary>
    public async Task<EditResult> OutpaintAsync(Image<Rgb24> image, int left, int right, int top, int bottom, EditOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= new EditOptions();
        var plan = OutpaintPlan.Create(image.Width, image.Height, left, right, top, bottom);
        int width = plan.CanvasWidth, height = plan.CanvasHeight;
        var canvas = new float[3 * width * height];
        Array.Fill(canvas, 0.5f);
        var known = new bool[width * height];
        var source = PixelTensor.ToChw(image);
        Paste(source, image.Width, image.Height, canvas, width, height, plan.Original.X, plan.Original.Y);
        for (var y = 0; y < image.Height; y++)
        {
            Array.Fill(known, true, ((plan.Original.Y + y) * width) + plan.Original.X, image.Width);
        }

        var tokensPerWindow = new List<long[]>();
        var windowCorners = new List<Point>();
        var window = new float[PixelsPerImage];
        for (var w = 0; w < plan.Windows.Count; w++)
        {
            var win = plan.Windows[w];
            Crop(canvas, width, height, win.X, win.Y, window);
            var tokens = await tokenizeBatcher.SubmitAsync((float[])window.Clone(), cancellationToken).ConfigureAwait(false);
            var stepsBefore = w * options.Steps;
            var windowProgress = OffsetProgress.Create(progress, stepsBefore);
            var decoded = await DecodeEditAsync(win.Unknown.Apply(tokens), imageIndex: w, options, windowProgress, cancellationToken).ConfigureAwait(false);
            var generated = (await DetokenizeChwAsync([decoded], cancellationToken).ConfigureAwait(false))[0];
            WriteWindow(generated, win, options.Blend, canvas, known, width, height);
            tokensPerWindow.Add(decoded);
            windowCorners.Add(new Point(win.X, win.Y));
        }

        return new EditResult(PixelTensor.FromChw(canvas, width, height), tokensPerWindow, [.. plan.Windows.Select(x => x.Unknown)], windowCorners);
    }

    /// <summary>
    /// Shrinks a 256x256 image by <paramref name="scale"/>, places it on the canvas and generates
    /// everything around it. With <see cref="EditOptions.Blend"/> the placed pixels stay exact.
    /// </summary>
    public async Task<EditResult> UncropAsync(Image<Rgb24> image, double scale, (int X, int Y)? position = null, EditOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        RequireCanvas(image, nameof(image));
        options ??= new EditOptions();
        var plan = UncropPlan.Create(scale, position);
        float[] placed;
        using (var small = image.Clone(x => x.Resize(plan.Size, plan.Size, KnownResamplers.Bicubic)))
        {
            placed = PixelTensor.ToChw(small);
        }

        var canvas = new float[PixelsPerImage];
        Array.Fill(canvas, 0.5f);
        Paste(placed, plan.Size, plan.Size, canvas, MageTokens.ImageSize, MageTokens.ImageSize, plan.Placed.X, plan.Placed.Y);
        var tokens = await tokenizeBatcher.SubmitAsync((float[])canvas.Clone(), cancellationToken).ConfigureAwait(false);
        var decoded = await DecodeEditAsync(plan.Unknown.Apply(tokens), imageIndex: 0, options, progress, cancellationToken).ConfigureAwait(false);
        var generated = (await DetokenizeChwAsync([decoded], cancellationToken).ConfigureAwait(false))[0];
        if (options.Blend)
        {
            Paste(placed, plan.Size, plan.Size, generated, MageTokens.ImageSize, MageTokens.ImageSize, plan.Placed.X, plan.Placed.Y);
        }

        return new EditResult(PixelTensor.FromChw(generated, MageTokens.ImageSize, MageTokens.ImageSize), [decoded], [plan.Unknown], [new Point(0, 0)]);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await tokenizeBatcher.DisposeAsync().ConfigureAwait(false);
        await featureBatcher.DisposeAsync().ConfigureAwait(false);
        await logitsBatcher.DisposeAsync().ConfigureAwait(false);
        await decodeBatcher.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the schedule for rows of one request: on the host with every step shared through the
    /// logits batcher, or on the device with the whole decode shared through the decode batcher.
    /// Progress follows the first row.
    /// </summary>
    private async Task<long[][]> DecodeRowsAsync(DecodeRow[] rows, DecodeOptions options, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        if (!DecodesOnDevice)
        {
            return await IterativeDecoder.DecodeAsync(rows, options, BatchedLogitsAsync, progress, cancellationToken).ConfigureAwait(false);
        }

        var pending = new Task<long[]>[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            pending[i] = decodeBatcher.SubmitAsync(new DecodeJob(rows[i], options, i == 0 ? progress : null), cancellationToken);
        }

        return await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private async Task<long[]> DecodeEditAsync(long[] initial, long imageIndex, EditOptions options, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var decode = new DecodeOptions(options.Steps, options.Temperature, options.Deterministic);
        var rows = new[] { new DecodeRow(initial, options.Seed, imageIndex) };
        var decoded = await DecodeRowsAsync(rows, decode, progress, cancellationToken).ConfigureAwait(false);
        return decoded[0];
    }

    /// <summary>The decoder's logits source: each row goes to the shared logits batcher, so rows of concurrent requests share model calls.</summary>
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

    private async Task<float[][]> DetokenizeChwAsync(IReadOnlyList<long[]> tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        for (var r = 0; r < tokens.Count; r++)
        {
            CheckTokens(tokens[r], r, nameof(tokens));
        }

        var result = new float[tokens.Count][];
        for (var start = 0; start < tokens.Count; start += Options.DetokenizeBatch)
        {
            var count = Math.Min(Options.DetokenizeBatch, tokens.Count - start);
            var ids = new long[count * MageTokens.Count];
            for (var i = 0; i < count; i++)
            {
                tokens[start + i].CopyTo(ids, i * MageTokens.Count);
            }

            var pixels = new float[count * PixelsPerImage];
            await Task.Run(() => Model.Detokenize(ids, count, pixels, cancellationToken), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                result[start + i] = pixels.AsSpan(i * PixelsPerImage, PixelsPerImage).ToArray();
            }
        }

        return result;
    }

    private ValueTask<IReadOnlyList<BatchItemResult<long[]>>> TokenizeBatch(IReadOnlyList<float[]> requests, CancellationToken cancellationToken)
    {
        var n = requests.Count;
        var pixels = ArrayPool<float>.Shared.Rent(n * PixelsPerImage);
        try
        {
            for (var i = 0; i < n; i++)
            {
                requests[i].CopyTo(pixels, i * PixelsPerImage);
            }

            var tokens = new long[n * MageTokens.Count];
            Model.Tokenize(pixels.AsMemory(0, n * PixelsPerImage), n, tokens, cancellationToken);
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

    /// <summary>
    /// Decodes and preprocesses an untrusted image into a [3, 256, 256] tensor, with the original
    /// size. CPU work, so it runs on the thread pool: concurrent callers decode in parallel.
    /// </summary>
    private Task<(float[] Pixels, int Width, int Height)> DecodeToChwAsync(
        ReadOnlyMemory<byte> encoded, PreprocessMode preprocess, string? sourceName, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                using var image = ImageLoader.Load(encoded, Options.Limits, sourceName);
                using var square = ImagePreprocessor.Apply(image, preprocess);
                return (PixelTensor.ToChw(square), image.Width, image.Height);
            },
            cancellationToken);

    private static void WriteWindow(float[] generated, OutpaintWindow win, bool onlyNewPixels, float[] canvas, bool[] known, int width, int height)
    {
        const int size = MageTokens.ImageSize;
        for (var y = 0; y < size; y++)
        {
            var cy = win.Y + y;
            for (var x = 0; x < size; x++)
            {
                var cx = win.X + x;
                var at = (cy * width) + cx;
                var write = onlyNewPixels ? !known[at] : win.Unknown[y / MageTokens.PatchSize, x / MageTokens.PatchSize];
                if (write)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        canvas[(c * width * height) + at] = generated[(c * size * size) + (y * size) + x];
                    }
                }

                known[at] = true;
            }
        }
    }

    private static void Paste(float[] source, int sourceWidth, int sourceHeight, float[] canvas, int width, int height, int left, int top)
    {
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < sourceHeight; y++)
            {
                source.AsSpan((c * sourceWidth * sourceHeight) + (y * sourceWidth), sourceWidth)
                    .CopyTo(canvas.AsSpan((c * width * height) + ((top + y) * width) + left));
            }
        }
    }

    private static void Crop(float[] canvas, int width, int height, int left, int top, float[] window)
    {
        const int size = MageTokens.ImageSize;
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < size; y++)
            {
                canvas.AsSpan((c * width * height) + ((top + y) * width) + left, size)
                    .CopyTo(window.AsSpan((c * size * size) + (y * size)));
            }
        }
    }

    private static void Normalize(float[] features)
    {
        double sum = 0;
        foreach (var v in features)
        {
            sum += (double)v * v;
        }

        var norm = Math.Sqrt(sum);
        if (norm > 0)
        {
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = (float)(features[i] / norm);
            }
        }
    }

    private static void RequireCanvas(Image<Rgb24> image, string name)
    {
        ArgumentNullException.ThrowIfNull(image, name);
        if (image.Width != MageTokens.ImageSize || image.Height != MageTokens.ImageSize)
        {
            throw new InvalidRequestException(
                $"The image is {image.Width}x{image.Height}; this operation needs {MageTokens.ImageSize}x{MageTokens.ImageSize}. Preprocess it first (square or linprobe).");
        }
    }

    private static void CheckTokens(long[] tokens, int row, string name)
    {
        ArgumentNullException.ThrowIfNull(tokens, name);
        CodebookIds.CheckGrid(tokens, row, maskAllowed: false);
    }

    private sealed record FeatureRequest(long[] Tokens, FeaturePooling Pooling);

    /// <summary>Reports steps of one part of a longer job as steps of the whole, synchronously and in order
    /// (<see cref="Progress{T}"/> would post each report to the thread pool and could reorder them).</summary>
    private sealed class OffsetProgress(IProgress<int> inner, int offset) : IProgress<int>
    {
        public static IProgress<int>? Create(IProgress<int>? inner, int offset) => inner is null ? null : new OffsetProgress(inner, offset);

        public void Report(int value) => inner.Report(offset + value);
    }

    private ValueTask<IReadOnlyList<BatchItemResult<long[]>>> DecodeBatch(IReadOnlyList<DecodeJob> jobs, CancellationToken cancellationToken)
    {
        var results = new BatchItemResult<long[]>[jobs.Count];
        foreach (var group in jobs.Select((job, index) => (job, index)).GroupBy(x => x.job.Options))
        {
            var members = group.ToArray();
            var listeners = members.Select(m => m.job.Progress).OfType<IProgress<int>>().ToArray();
            var progress = listeners.Length == 0 ? null : new FanOutProgress(listeners);
            var decoded = Model.Decode(members.Select(m => m.job.Row).ToArray(), group.Key, progress, cancellationToken);
            for (var k = 0; k < members.Length; k++)
            {
                results[members[k].index] = BatchItemResult<long[]>.Success(decoded[k]);
            }
        }

        return ValueTask.FromResult<IReadOnlyList<BatchItemResult<long[]>>>(results);
    }

    private readonly record struct DecodeJob(DecodeRow Row, DecodeOptions Options, IProgress<int>? Progress);

    private sealed class FanOutProgress(IProgress<int>[] listeners) : IProgress<int>
    {
        public void Report(int value)
        {
            foreach (var listener in listeners)
            {
                listener.Report(value);
            }
        }
    }

    private readonly record struct LogitsRow(ReadOnlyMemory<long> Ids, Memory<float> Logits);
}
