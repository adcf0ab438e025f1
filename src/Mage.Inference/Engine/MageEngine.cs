using System.Diagnostics;
using Mage.Inference.Batching;
using Mage.Inference.Editing;
using Mage.Inference.Decoding;
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
    private readonly ILogger log;
    private readonly ModelBatchers batchers;

    public MageEngine(MageModel model, MageEngineOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Options = options ?? new MageEngineOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.DetokenizeBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.GenerateChunk, 1);
        log = logger ?? NullLogger.Instance;
        DecodesOnDevice = Options.Loop switch
        {
            DecodeLoop.Host => false,
            DecodeLoop.Device => true,
            _ => model.Device.IsCuda,
        };
        batchers = new ModelBatchers(model, Options, DecodesOnDevice, log);
        log.LogInformation("Decoding schedule runs on the {Where}", DecodesOnDevice ? "device (sampler graph)" : "host");
    }

    /// <summary>Whether generation and editing run the schedule on the device (<see cref="MageEngineOptions.Loop"/> resolved).</summary>
    public bool DecodesOnDevice { get; }

    /// <summary>Batch statistics of whole decodes on the device (empty when the schedule runs on the host).</summary>
    public BatcherStatistics DecodeStatistics => batchers.DecodeStatistics;

    /// <summary>Batch statistics of the detokenizer (one run at a time; rows of concurrent requests share batches).</summary>
    internal BatcherStatistics DetokenizeStatistics => batchers.DetokenizeStatistics;

    /// <summary>The model the engine runs.</summary>
    public MageModel Model { get; }

    /// <summary>Limits and batching.</summary>
    public MageEngineOptions Options { get; }

    /// <summary>Batch statistics of the tokenizer, feature and logits batchers, for logs and benchmarks.</summary>
    public (BatcherStatistics Tokenize, BatcherStatistics Features, BatcherStatistics Logits) Statistics => batchers.Statistics;

    /// <summary>Decodes an untrusted image within <see cref="MageEngineOptions.Limits"/>. The caller owns the result.</summary>
    /// <exception cref="ImageDecodeException">Empty, not an image, unsupported, too large or corrupt.</exception>
    public Image<Rgb24> LoadImage(ReadOnlyMemory<byte> data, string? sourceName = null) =>
        ImageLoader.Load(data, Options.Limits, sourceName);

    /// <summary>Tokenizes a 256x256 image.</summary>
    public Task<long[]> TokenizeAsync(Image<Rgb24> image, CancellationToken cancellationToken = default)
    {
        RequireCanvas(image, nameof(image));
        return batchers.TokenizeAsync(PixelTensor.ToChw(image), cancellationToken);
    }

    /// <summary>Decodes, preprocesses and tokenizes an encoded image.</summary>
    public async Task<long[]> TokenizeAsync(ReadOnlyMemory<byte> encoded, PreprocessMode preprocess, string? sourceName = null, CancellationToken cancellationToken = default)
    {
        var (pixels, _, _) = await DecodeToChwAsync(encoded, preprocess, sourceName, cancellationToken).ConfigureAwait(false);
        return await batchers.TokenizeAsync(pixels, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The pooled feature of a token grid.</summary>
    /// <param name="tokens">256 codebook ids.</param>
    /// <param name="pooling">Which feature.</param>
    /// <param name="normalize">Scale to unit L2 norm.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<float[]> FeaturesAsync(long[] tokens, FeaturePooling pooling, bool normalize = false, CancellationToken cancellationToken = default)
    {
        CheckTokens(tokens, 0, nameof(tokens));
        var features = await batchers.FeaturesAsync(tokens, pooling, cancellationToken).ConfigureAwait(false);
        if (normalize)
        {
            L2Norm.Normalize(features);
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
        var tokens = await batchers.TokenizeAsync(pixels, cancellationToken).ConfigureAwait(false);
        var features = await FeaturesAsync(tokens, options.Pooling, options.Normalize, cancellationToken).ConfigureAwait(false);
        return new ImageEmbedding(tokens, features, options, width, height, decodeTime, inferenceTimer.Elapsed);
    }

    /// <summary>Token grids to images. The caller owns the images.</summary>
    public async Task<Image<Rgb24>[]> DetokenizeAsync(IReadOnlyList<long[]> tokens, CancellationToken cancellationToken = default)
    {
        var pixels = await DetokenizeChwAsync(tokens, cancellationToken).ConfigureAwait(false);
        return [.. pixels.Select(p => PixelTensor.FromChw(p, MageTokens.ImageSize, MageTokens.ImageSize))];
    }

    /// <summary>Generates token grids (docs/model.md#decode-schedule).</summary>
    /// <param name="request">Count, seed and schedule.</param>
    /// <param name="progress">After each step: the steps done over all chunks, of chunks x steps.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public async Task<long[][]> GenerateTokensAsync(GenerateRequest request, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count is < 1 or > MageDefaults.MaxGenerateCount)
        {
            throw new InvalidRequestException($"Count {request.Count} is out of range 1..{MageDefaults.MaxGenerateCount}.");
        }

        if (request.FirstIndex < 0)
        {
            throw new InvalidRequestException($"FirstIndex {request.FirstIndex} must be 0 or more.");
        }

        var decode = new DecodeOptions(request.Steps, request.Temperature, request.Deterministic);
        var chunks = (request.Count + Options.GenerateChunk - 1) / Options.GenerateChunk;
        var results = new long[request.Count][];
        for (var start = 0; start < request.Count; start += Options.GenerateChunk)
        {
            var count = Math.Min(Options.GenerateChunk, request.Count - start);
            var rows = new DecodeRow[count];
            for (var i = 0; i < count; i++)
            {
                rows[i] = DecodeRow.AllMasked(request.Seed, request.FirstIndex + start + i);
            }

            var chunkProgress = OffsetProgress.Create(progress, start / Options.GenerateChunk * request.Steps, chunks * request.Steps);
            var decoded = await batchers.DecodeAsync(rows, decode, chunkProgress, cancellationToken).ConfigureAwait(false);
            decoded.CopyTo(results, start);
        }

        log.LogInformation("Generated {Count} token grids (seed {Seed}, {Steps} steps, temperature {Temperature}, deterministic {Deterministic})",
            request.Count, request.Seed, request.Steps, request.Temperature, request.Deterministic);
        return results;
    }

    /// <summary>Generates images. The caller owns them.</summary>
    public async Task<IReadOnlyList<GeneratedImage>> GenerateAsync(GenerateRequest request, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var tokens = await GenerateTokensAsync(request, progress, cancellationToken).ConfigureAwait(false);
        var images = await DetokenizeAsync(tokens, cancellationToken).ConfigureAwait(false);
        return [.. tokens.Select((t, i) => new GeneratedImage(request.FirstIndex + i, t, images[i]))];
    }

    /// <summary>Inpaints the given tokens of a 256x256 image.</summary>
    /// <param name="image">The 256x256 input (see <see cref="ImagePreprocessor"/>).</param>
    /// <param name="unknown">The tokens to generate; at least one.</param>
    /// <param name="options">Schedule and blending.</param>
    /// <param name="progress">After each step: the steps done, of <see cref="EditOptions.Steps"/>.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public async Task<EditResult> InpaintAsync(Image<Rgb24> image, TokenMask unknown, EditOptions? options = null, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RequireCanvas(image, nameof(image));
        ArgumentNullException.ThrowIfNull(unknown);
        options ??= new EditOptions();
        if (unknown.Count == 0)
        {
            throw new InvalidRequestException("The inpainting mask covers no token: nothing to generate. Mark at least one pixel.");
        }

        var original = PixelTensor.ToChw(image);
        var tokens = await batchers.TokenizeAsync(original, cancellationToken).ConfigureAwait(false);
        var decoded = await DecodeEditAsync(unknown.Apply(tokens), imageIndex: 0, options, OffsetProgress.Create(progress, 0, options.Steps), cancellationToken).ConfigureAwait(false);
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
    /// <param name="progress">After each step: the steps done, of <see cref="EditOptions.Steps"/>.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public Task<EditResult> InpaintAsync(Image<Rgb24> image, bool[] pixelMask, int dilateTokens = 0, EditOptions? options = null, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pixelMask);
        return InpaintAsync(image, TokenMask.FromPixelMask(pixelMask).Dilate(dilateTokens), options, progress, cancellationToken);
    }

    /// <summary>Inpaints inside boxes (pixels on the 256x256 image).</summary>
    public Task<EditResult> InpaintAsync(Image<Rgb24> image, IEnumerable<PixelBox> boxes, int dilateTokens = 0, EditOptions? options = null, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default) =>
        InpaintAsync(image, TokenMask.FromBoxes(boxes).Dilate(dilateTokens), options, progress, cancellationToken);

    /// <summary>
    /// Extends an image by the given margins, one 256x256 window at a time, each window
    /// conditioned on what is already known. With <see cref="EditOptions.Blend"/> only new pixels
    /// are written, so the original stays exact; without it every pixel of a generated token is.
    /// Progress counts the steps of every window: windows x steps in all.
    /// </summary>
    public async Task<EditResult> OutpaintAsync(Image<Rgb24> image, int left, int right, int top, int bottom, EditOptions? options = null, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= new EditOptions();
        var plan = OutpaintPlan.Create(image.Width, image.Height, left, right, top, bottom);
        int width = plan.CanvasWidth, height = plan.CanvasHeight;
        var canvas = Canvas.Blank(width, height);
        var known = new bool[width * height];
        Canvas.Paste(PixelTensor.ToChw(image), image.Width, image.Height, canvas, width, height, plan.Original.X, plan.Original.Y);
        Canvas.MarkKnown(known, width, plan.Original);

        var tokensPerWindow = new List<long[]>();
        var windowCorners = new List<Point>();
        var window = new float[PixelTensor.FloatsPerImage];
        for (var w = 0; w < plan.Windows.Count; w++)
        {
            var win = plan.Windows[w];
            Canvas.Crop(canvas, width, height, win.X, win.Y, window);
            var tokens = await batchers.TokenizeAsync((float[])window.Clone(), cancellationToken).ConfigureAwait(false);
            var windowProgress = OffsetProgress.Create(progress, w * options.Steps, plan.Windows.Count * options.Steps);
            var decoded = await DecodeEditAsync(win.Unknown.Apply(tokens), imageIndex: w, options, windowProgress, cancellationToken).ConfigureAwait(false);
            var generated = (await DetokenizeChwAsync([decoded], cancellationToken).ConfigureAwait(false))[0];
            Canvas.WriteWindow(generated, win, options.Blend, canvas, known, width, height);
            tokensPerWindow.Add(decoded);
            windowCorners.Add(new Point(win.X, win.Y));
        }

        return new EditResult(PixelTensor.FromChw(canvas, width, height), tokensPerWindow, [.. plan.Windows.Select(x => x.Unknown)], windowCorners);
    }

    /// <summary>
    /// Shrinks a 256x256 image by <paramref name="scale"/>, places it on the canvas and generates
    /// everything around it. With <see cref="EditOptions.Blend"/> the placed pixels stay exact.
    /// Progress counts the decoding steps.
    /// </summary>
    public async Task<EditResult> UncropAsync(Image<Rgb24> image, double scale, (int X, int Y)? position = null, EditOptions? options = null, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RequireCanvas(image, nameof(image));
        options ??= new EditOptions();
        var plan = UncropPlan.Create(scale, position);
        float[] placed;
        using (var small = image.Clone(x => x.Resize(plan.Size, plan.Size, KnownResamplers.Bicubic)))
        {
            placed = PixelTensor.ToChw(small);
        }

        var canvas = Canvas.Blank(MageTokens.ImageSize, MageTokens.ImageSize);
        Canvas.Paste(placed, plan.Size, plan.Size, canvas, MageTokens.ImageSize, MageTokens.ImageSize, plan.Placed.X, plan.Placed.Y);
        var tokens = await batchers.TokenizeAsync((float[])canvas.Clone(), cancellationToken).ConfigureAwait(false);
        var decoded = await DecodeEditAsync(plan.Unknown.Apply(tokens), imageIndex: 0, options, OffsetProgress.Create(progress, 0, options.Steps), cancellationToken).ConfigureAwait(false);
        var generated = (await DetokenizeChwAsync([decoded], cancellationToken).ConfigureAwait(false))[0];
        if (options.Blend)
        {
            Canvas.Paste(placed, plan.Size, plan.Size, generated, MageTokens.ImageSize, MageTokens.ImageSize, plan.Placed.X, plan.Placed.Y);
        }

        return new EditResult(PixelTensor.FromChw(generated, MageTokens.ImageSize, MageTokens.ImageSize), [decoded], [plan.Unknown], [new Point(0, 0)]);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => batchers.DisposeAsync();

    private async Task<long[]> DecodeEditAsync(long[] initial, long imageIndex, EditOptions options, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var decode = new DecodeOptions(options.Steps, options.Temperature, options.Deterministic);
        var decoded = await batchers.DecodeAsync([new DecodeRow(initial, options.Seed, imageIndex)], decode, progress, cancellationToken).ConfigureAwait(false);
        return decoded[0];
    }

    private async Task<float[][]> DetokenizeChwAsync(IReadOnlyList<long[]> tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        for (var r = 0; r < tokens.Count; r++)
        {
            CheckTokens(tokens[r], r, nameof(tokens));
        }

        // A batch at a time per caller: a 4096-image request never fills the batcher's queue, and
        // concurrent callers' rows still share runs.
        var result = new float[tokens.Count][];
        for (var start = 0; start < tokens.Count; start += Options.DetokenizeBatch)
        {
            var count = Math.Min(Options.DetokenizeBatch, tokens.Count - start);
            var pending = new Task<float[]>[count];
            for (var i = 0; i < count; i++)
            {
                pending[i] = batchers.DetokenizeAsync(tokens[start + i], cancellationToken);
            }

            (await Task.WhenAll(pending).ConfigureAwait(false)).CopyTo(result, start);
        }

        return result;
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
}
