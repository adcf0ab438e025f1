using System.Buffers;
using System.Diagnostics;
using Mage.Inference.Decoding;
using Mage.Inference.Packages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace Mage.Inference.Runtime;

/// <summary>
/// The MAGE graphs of one model package on ONNX Runtime: tokenizer, encoder, decoder and
/// detokenizer, plus the package-independent sampler of the decoding schedule (see
/// <see cref="Decode(IReadOnlyList{DecodeRow}, DecodeOptions, IProgress{int}?, CancellationToken)"/>), each one <see cref="InferenceSession"/> created at load and shared.
/// </summary>
/// <remarks>
/// Thread-safe: any number of callers may run any method at once (ONNX Runtime sessions are
/// safe for concurrent <c>Run</c>; every call has its own <see cref="RunOptions"/> and values).
/// Owns the sessions; dispose it once, when no call is running. All methods are batched over a
/// leading axis N and write into caller-provided buffers, so nothing is copied twice.
/// </remarks>
public sealed partial class MageModel : IDisposable
{
    private readonly InferenceSession tokenizer;
    private readonly InferenceSession encoder;
    private readonly InferenceSession decoder;
    private readonly InferenceSession detokenizer;
    private readonly InferenceSession sampler;
    private readonly ILogger logger;
    private readonly bool profiling;
    private readonly BatchPlan shapePlan;
    private readonly BatchPlan transformerPlan;
    private bool disposed;

    private MageModel(ModelPackage package, ExecutionDevice device, InferenceSession[] sessions, ILogger logger, bool profiling, PrecisionMode precision, BatchPlan shapePlan, BatchPlan transformerPlan)
    {
        this.profiling = profiling;
        this.shapePlan = shapePlan;
        this.transformerPlan = transformerPlan;
        FixedRows = transformerPlan.Sizes.Count == 1 ? transformerPlan.Sizes[0] : 0;
        Precision = precision;
        Package = package;
        Device = device;
        (tokenizer, encoder, decoder, detokenizer, sampler) = (sessions[0], sessions[1], sessions[2], sessions[3], sessions[4]);
        this.logger = logger;
    }

    /// <summary>The loaded package.</summary>
    public ModelPackage Package { get; }

    /// <summary>Where the graphs run.</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Rows per transformer call on CUDA when <see cref="MageModelOptions.FixedTransformerBatch"/> is 0.</summary>
    public const int DefaultCudaTransformerBatch = 16;

    /// <summary>Rows of every transformer call (the last one padded), or 0 for natural or bucketed batch sizes.</summary>
    public int FixedRows { get; }

    /// <summary>The precision mode the sessions were created with.</summary>
    public PrecisionMode Precision { get; }

    /// <summary>The batch sizes the tokenizer, the encoder's features and the detokenizer run at (padded up to); empty for natural sizes.</summary>
    public IReadOnlyList<int> BatchBuckets => shapePlan.Sizes;

    /// <summary>The batch sizes transformer calls of the decoding schedule run at; empty for natural sizes.</summary>
    public IReadOnlyList<int> TransformerBuckets => transformerPlan.Sizes;

    /// <summary>Width D of the features.</summary>
    public int FeatureDim => Package.FeatureDim;

    /// <summary>Loads a package and creates its sessions on the configured device.</summary>
    /// <exception cref="ModelPackageException">The package is invalid or a graph cannot be loaded.</exception>
    public static MageModel Load(MageModelOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var (wantCuda, deviceId, explicitDevice) = options.ParseDevice();
        var started = Stopwatch.StartNew();
        var package = ModelPackage.Load(options.PackagePath, options.VerifyHashes);

        ExecutionDevice device;
        InferenceSession[]? sessions = null;
        if (wantCuda)
        {
            var available = OrtEnv.Instance().GetAvailableProviders();
            if (available.Contains("CUDAExecutionProvider"))
            {
                try
                {
                    sessions = CreateSessions(package, options, cudaDevice: deviceId);
                }
                catch (OnnxRuntimeException e)
                {
                    logger.LogWarning(e, "CUDA device {DeviceId} could not start ONNX Runtime's CUDA provider; falling back to the CPU", deviceId);
                }
            }
            else if (explicitDevice)
            {
                logger.LogWarning("Device {Device} was requested but this ONNX Runtime build has no CUDA provider (providers: {Providers}); falling back to the CPU",
                    options.Device, string.Join(", ", available));
            }
        }

        if (sessions is not null)
        {
            device = new ExecutionDevice(true, deviceId, $"CUDA device {deviceId}");
        }
        else
        {
            sessions = CreateSessions(package, options, cudaDevice: null);
            var threads = options.IntraOpThreads == 0 ? "all cores" : $"{options.IntraOpThreads} threads";
            device = new ExecutionDevice(false, 0, $"CPU ({threads})");
        }

        logger.LogInformation("Loaded model package {Package} ({Arch}, {Precision}, source {Source}) on {Device} in {Elapsed} ms",
            package.Folder, package.Manifest.Arch, package.Manifest.Precision, package.Manifest.Source.Kind, device.Description,
            started.ElapsedMilliseconds);
        if (package.Manifest.Source.IsRandom)
        {
            logger.LogWarning("Model package {Package} holds seeded random weights: its outputs are not meaningful images or features", package.Folder);
        }

        var shapePlan = BatchPlan.Parse(options.BatchBuckets, device.IsCuda);
        var transformerPlan = options.FixedTransformerBatch switch
        {
            > 0 => BatchPlan.Fixed(options.FixedTransformerBatch),
            < 0 => BatchPlan.Natural,
            _ when options.Precision == PrecisionMode.Exact => device.IsCuda ? BatchPlan.Fixed(DefaultCudaTransformerBatch) : BatchPlan.Natural,
            _ => shapePlan,
        };
        if (transformerPlan.Sizes.Count == 1)
        {
            logger.LogInformation("Transformer calls run in fixed batches of {Rows} rows, so seeded results do not depend on batch size", transformerPlan.Sizes[0]);
        }

        if (device.IsCuda)
        {
            logger.LogInformation("Precision {Precision}: TF32 in {Graphs}; graph runs padded to batch sizes {Buckets}, transformer calls to {TransformerBuckets}",
                WireNames.Of(options.Precision),
                string.Join(", ", ModelPackage.GraphRoles.Where(r => GraphPrecision.UsesTf32(options.Precision, r, package.Manifest)).DefaultIfEmpty("no graph")),
                shapePlan, transformerPlan);
        }

        var model = new MageModel(package, device, sessions, logger, options.ProfilePrefix is not null, options.Precision, shapePlan, transformerPlan);
        if (options.WarmUp ?? device.IsCuda)
        {
            try
            {
                model.WarmUp();
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }

        return model;
    }

    /// <summary>
    /// Runs every graph once at every batch size its plan allows, with inputs that are valid but
    /// mean nothing, so that cuDNN's algorithm search and ONNX Runtime's first allocations for each
    /// shape happen now rather than in a user's request.
    /// </summary>
    private void WarmUp()
    {
        var started = Stopwatch.StartNew();
        foreach (var size in shapePlan.Sizes)
        {
            var pixels = new float[size * PixelsPerRow];
            var tokens = new long[size * MageTokens.Count];
            Tokenize(pixels, size, tokens);
            Features(tokens, size, FeaturePooling.Linprobe, new float[size * FeatureDim]);
            Detokenize(tokens, size, pixels);
        }

        var allMasked = new DecodeRow(Enumerable.Repeat(MageTokens.MaskId, MageTokens.Count).ToArray(), 0, 0);
        foreach (var size in transformerPlan.Sizes)
        {
            // One step of the device loop runs the encoder, the decoder and the sampler at this size:
            // the shapes the host loop's logits calls use too.
            Decode(Enumerable.Repeat(allMasked, size).ToList(), new DecodeOptions(1, 0, Deterministic: true));
        }

        logger.LogInformation("Warmed up the graphs at batch sizes {Buckets} (transformer {TransformerBuckets}) in {Elapsed} ms",
            shapePlan, transformerPlan, started.ElapsedMilliseconds);
    }

    private static InferenceSession[] CreateSessions(ModelPackage package, MageModelOptions options, int? cudaDevice)
    {
        var created = new List<InferenceSession>(5);
        try
        {
            foreach (var role in ModelPackage.GraphRoles.Append(SamplerRole))
            {
                using var so = new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                    IntraOpNumThreads = options.IntraOpThreads,
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
                };
                if (cudaDevice is null)
                {
                    so.EnableMemoryPattern = options.MemoryPattern;
                    so.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
                }

                if (options.ProfilePrefix is { } prefix)
                {
                    // The prefix must be set first: enabling profiling passes the current prefix to ONNX Runtime.
                    so.ProfileOutputPathPrefix = $"{prefix}-{role}";
                    so.EnableProfiling = true;
                }

                if (cudaDevice is { } id)
                {
                    using var cuda = new OrtCUDAProviderOptions();
                    cuda.UpdateOptions(GraphPrecision.CudaProviderOptions(options, role, package.Manifest, id));
                    so.AppendExecutionProvider_CUDA(cuda);
                }

                try
                {
                    created.Add(role == SamplerRole
                        ? new InferenceSession(SamplerGraph.Value, so)
                        : new InferenceSession(package.GraphPath(role), so));
                }
                catch (OnnxRuntimeException e) when (cudaDevice is null)
                {
                    throw new ModelPackageException($"Model package {package.Folder}: graph '{role}' cannot be loaded by ONNX Runtime: {e.Message}", e);
                }
            }

            return [.. created];
        }
        catch
        {
            foreach (var s in created)
            {
                s.Dispose();
            }

            throw;
        }
    }

    /// <summary>Images to token ids.</summary>
    /// <param name="pixels">N x 3 x 256 x 256 floats, RGB in [0,1], planar.</param>
    /// <param name="batch">N.</param>
    /// <param name="tokens">Receives N x 256 ids, row-major over the 16x16 grid.</param>
    /// <param name="cancellationToken">Stops a run in progress.</param>
    public void Tokenize(ReadOnlyMemory<float> pixels, int batch, Memory<long> tokens, CancellationToken cancellationToken = default)
    {
        CheckBatch(batch);
        CheckLength(pixels.Length, batch * (long)PixelsPerRow, nameof(pixels));
        CheckLength(tokens.Length, batch * (long)MageTokens.Count, nameof(tokens));
        ForEachRun(shapePlan, batch, pixels, PixelsPerRow, tokens, MageTokens.Count, static row => row.Clear(), (runIn, rows, runOut) =>
        {
            using var input = Tensor(runIn, rows, 3, MageTokens.ImageSize, MageTokens.ImageSize);
            using var output = Tensor(runOut, rows, MageTokens.Count);
            Run(tokenizer, ["pixels"], [input], ["tokens"], [output], cancellationToken);
        });
    }

    /// <summary>Token ids to pooled features.</summary>
    /// <param name="tokens">N x 256 codebook ids (0..1023).</param>
    /// <param name="batch">N.</param>
    /// <param name="pooling">Which feature to return.</param>
    /// <param name="features">Receives N x D floats.</param>
    /// <param name="cancellationToken">Stops a run in progress.</param>
    public void Features(ReadOnlyMemory<long> tokens, int batch, FeaturePooling pooling, Memory<float> features, CancellationToken cancellationToken = default)
    {
        CheckBatch(batch);
        CheckLength(tokens.Length, batch * (long)MageTokens.Count, nameof(tokens));
        CheckLength(features.Length, batch * (long)FeatureDim, nameof(features));
        CodebookIds.Check(tokens.Span[..(batch * MageTokens.Count)]);
        ForEachRun(shapePlan, batch, tokens, MageTokens.Count, features, FeatureDim, static row => row.Clear(), (runIn, rows, runOut) =>
        {
            var ids = ArrayPool<long>.Shared.Rent(rows * MageTokens.SequenceLength);
            try
            {
                SequenceRow.WriteMany(runIn.Span, rows, ids);
                using var input = Tensor(ids.AsMemory(0, rows * MageTokens.SequenceLength), rows, MageTokens.SequenceLength);
                using var output = Tensor(runOut, rows, FeatureDim);
                // The encoder's pooled outputs are named like the poolings on the wire.
                Run(encoder, ["ids"], [input], [WireNames.Of(pooling)], [output], cancellationToken);
            }
            finally
            {
                ArrayPool<long>.Shared.Return(ids);
            }
        });
    }

    /// <summary>Transformer ids to codebook logits: the encoder, then the decoder.</summary>
    /// <param name="ids">N x 257 ids: 1100 at position 0, then codebook ids or the mask id 2024.</param>
    /// <param name="batch">N.</param>
    /// <param name="logits">Receives N x 256 x 1024 floats (positions 1..256, codebook ids).</param>
    /// <param name="cancellationToken">Stops a run in progress.</param>
    public void Logits(ReadOnlyMemory<long> ids, int batch, Memory<float> logits, CancellationToken cancellationToken = default)
    {
        CheckBatch(batch);
        CheckLength(ids.Length, batch * (long)MageTokens.SequenceLength, nameof(ids));
        CheckLength(logits.Length, batch * (long)MageTokens.Count * MageTokens.CodebookSize, nameof(logits));
        ForEachRun(transformerPlan, batch, ids, MageTokens.SequenceLength, logits, MageTokens.Count * MageTokens.CodebookSize, SequenceRow.WriteAllMasked, (runIds, rows, runLogits) =>
        {
            if (Device.IsCuda)
            {
                LogitsOnDevice(runIds, rows, runLogits, cancellationToken);
            }
            else
            {
                LogitsOnCpu(runIds, rows, runLogits, cancellationToken);
            }
        });
    }

    /// <summary>The CPU path of <see cref="Logits"/>: the encoder, then the decoder, through host memory.</summary>
    private void LogitsOnCpu(ReadOnlyMemory<long> ids, int batch, Memory<float> logits, CancellationToken cancellationToken)
    {
        var encodedLength = batch * MageTokens.SequenceLength * FeatureDim;
        var encoded = ArrayPool<float>.Shared.Rent(encodedLength);
        try
        {
            using var idsValue = Tensor(ids, batch, MageTokens.SequenceLength);
            using var encodedValue = Tensor(encoded.AsMemory(0, encodedLength), batch, MageTokens.SequenceLength, FeatureDim);
            Run(encoder, ["ids"], [idsValue], ["encoded"], [encodedValue], cancellationToken);
            using var logitsValue = Tensor(logits, batch, MageTokens.Count, MageTokens.CodebookSize);
            Run(decoder, ["encoded", "ids"], [encodedValue, idsValue], ["logits"], [logitsValue], cancellationToken);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(encoded);
        }
    }

    /// <summary>
    /// Runs <paramref name="graph"/> over the runs (<see cref="BatchRun"/>) that <paramref name="plan"/>
    /// cuts a call of <paramref name="batch"/> rows into. A run at its own size works on the caller's
    /// buffers; a padded one on pooled copies whose extra rows <paramref name="pad"/> fills, and only
    /// its real rows come back.
    /// </summary>
    private static void ForEachRun<TIn, TOut>(
        BatchPlan plan, int batch, ReadOnlyMemory<TIn> input, int inPerRow, Memory<TOut> output, int outPerRow, RowPadding<TIn> pad, GraphRun<TIn, TOut> graph)
        where TIn : unmanaged
        where TOut : unmanaged
    {
        foreach (var batchRun in plan.Split(batch))
        {
            if (!batchRun.Padded)
            {
                graph(input.Slice(batchRun.Start * inPerRow, batchRun.Rows * inPerRow), batchRun.Rows, output.Slice(batchRun.Start * outPerRow, batchRun.Rows * outPerRow));
                continue;
            }

            var paddedIn = ArrayPool<TIn>.Shared.Rent(batchRun.Size * inPerRow);
            var paddedOut = ArrayPool<TOut>.Shared.Rent(batchRun.Size * outPerRow);
            try
            {
                input.Span.Slice(batchRun.Start * inPerRow, batchRun.Rows * inPerRow).CopyTo(paddedIn);
                for (var r = batchRun.Rows; r < batchRun.Size; r++)
                {
                    pad(paddedIn.AsSpan(r * inPerRow, inPerRow));
                }

                graph(paddedIn.AsMemory(0, batchRun.Size * inPerRow), batchRun.Size, paddedOut.AsMemory(0, batchRun.Size * outPerRow));
                paddedOut.AsSpan(0, batchRun.Rows * outPerRow).CopyTo(output.Span[(batchRun.Start * outPerRow)..]);
            }
            finally
            {
                ArrayPool<TIn>.Shared.Return(paddedIn);
                ArrayPool<TOut>.Shared.Return(paddedOut);
            }
        }
    }

    /// <summary>
    /// <see cref="Logits"/> in the shape of <see cref="Decoding.LogitsFunction"/>, for the
    /// iterative decoder. Runs on the calling thread: ONNX Runtime blocks while it computes.
    /// </summary>
    internal ValueTask LogitsAsync(ReadOnlyMemory<long> ids, int rows, Memory<float> logits, CancellationToken cancellationToken = default)
    {
        Logits(ids, rows, logits, cancellationToken);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The CUDA path of <see cref="Logits"/>: the encoder's output stays in GPU memory and is bound
    /// straight into the decoder (IO binding), so only ids go up and logits come down.
    /// </summary>
    private void LogitsOnDevice(ReadOnlyMemory<long> ids, int batch, Memory<float> logits, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        using var run = new CancellableRun(cancellationToken);
        using var gpu = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, Device.DeviceId, OrtMemType.Default);
        using var idsValue = Tensor(ids, batch, MageTokens.SequenceLength);
        using var logitsValue = Tensor(logits, batch, MageTokens.Count, MageTokens.CodebookSize);
        run.Execute(runOptions =>
        {
            using var outputs = EncodeAndDecode(idsValue, gpu, runOptions, logitsValue);
        });
    }

    /// <summary>Token ids to images.</summary>
    /// <param name="tokens">N x 256 codebook ids.</param>
    /// <param name="batch">N.</param>
    /// <param name="pixels">Receives N x 3 x 256 x 256 floats, RGB clipped to [0,1], planar.</param>
    /// <param name="cancellationToken">Stops a run in progress.</param>
    public void Detokenize(ReadOnlyMemory<long> tokens, int batch, Memory<float> pixels, CancellationToken cancellationToken = default)
    {
        CheckBatch(batch);
        CheckLength(tokens.Length, batch * (long)MageTokens.Count, nameof(tokens));
        CheckLength(pixels.Length, batch * (long)PixelsPerRow, nameof(pixels));
        CodebookIds.Check(tokens.Span[..(batch * MageTokens.Count)]);
        ForEachRun(shapePlan, batch, tokens, MageTokens.Count, pixels, PixelsPerRow, static row => row.Clear(), (runIn, rows, runOut) =>
        {
            using var input = Tensor(runIn, rows, MageTokens.Count);
            using var output = Tensor(runOut, rows, 3, MageTokens.ImageSize, MageTokens.ImageSize);
            Run(detokenizer, ["tokens"], [input], ["pixels"], [output], cancellationToken);
        });
    }

    /// <summary>Floats of one image: 3 planes of 256 x 256.</summary>
    private const int PixelsPerRow = 3 * MageTokens.ImageSize * MageTokens.ImageSize;

    /// <summary>Fills one padding row of a run's input.</summary>
    private delegate void RowPadding<T>(Span<T> row);

    /// <summary>Runs a graph on one batch run: its input, its number of rows, its output.</summary>
    private delegate void GraphRun<TIn, TOut>(ReadOnlyMemory<TIn> input, int rows, Memory<TOut> output);

    private static void CheckBatch(int batch) => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);

    private static void CheckLength(long actual, long expected, string name)
    {
        if (actual < expected)
        {
            throw new ArgumentException($"Buffer {name} holds {actual} elements; the batch needs {expected}.", name);
        }
    }

    /// <summary>A tensor over caller memory (no copy); the caller disposes it.</summary>
    internal static OrtValue Tensor<T>(ReadOnlyMemory<T> data, params long[] shape)
        where T : unmanaged
    {
        var count = 1L;
        foreach (var d in shape)
        {
            count *= d;
        }

        // ONNX Runtime reads inputs only; the cast drops the read-only marker, not a copy.
        var memory = System.Runtime.InteropServices.MemoryMarshal.AsMemory(data)[..checked((int)count)];
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);
    }

    /// <inheritdoc cref="Tensor{T}(ReadOnlyMemory{T}, long[])"/>
    internal static OrtValue Tensor<T>(Memory<T> data, params long[] shape)
        where T : unmanaged => Tensor((ReadOnlyMemory<T>)data, shape);

    private void Run(InferenceSession session, string[] inputNames, OrtValue[] inputs, string[] outputNames, OrtValue[] outputs, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        using var run = new CancellableRun(cancellationToken);
        run.Execute(runOptions => session.Run(runOptions, inputNames, inputs, outputNames, outputs));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        if (profiling)
        {
            // ONNX Runtime writes a profile only when asked to end it.
            foreach (var session in new[] { tokenizer, encoder, decoder, detokenizer, sampler })
            {
                logger.LogInformation("Wrote ONNX Runtime profile {File}", session.EndProfiling());
            }
        }

        tokenizer.Dispose();
        encoder.Dispose();
        decoder.Dispose();
        detokenizer.Dispose();
        sampler.Dispose();
        logger.LogDebug("Disposed model {Package}", Package.Folder);
    }
}
