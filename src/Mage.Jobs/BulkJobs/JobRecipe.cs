using Mage.Inference.Engine;
using Mage.Inference.Imaging;
using Mage.Inference.Runtime;
using Mage.Jobs.Outputs;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// What a bulk job computes for each image and how its parts are written: the one place that
/// knows a job's kind. Pooling and normalization apply to <see cref="JobKind.Embeddings"/> only.
/// </summary>
/// <param name="Kind">Embeddings or tokens.</param>
/// <param name="Pooling">Which feature an embeddings job writes.</param>
/// <param name="Normalize">Whether embeddings are L2-normalized.</param>
/// <param name="Preprocess">How each image becomes 256×256.</param>
internal sealed record JobRecipe(JobKind Kind, FeaturePooling Pooling, bool Normalize, PreprocessMode Preprocess)
{
    /// <summary>Computes one image's value into <paramref name="row"/>.</summary>
    /// <exception cref="ImageDecodeException">The image is refused or broken.</exception>
    public async Task ComputeAsync(MageEngine engine, byte[] image, PartRow row, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(row);
        if (Kind == JobKind.Tokens)
        {
            row.Tokens = await engine.TokenizeAsync(image, Preprocess, row.Name, cancellationToken).ConfigureAwait(false);
            return;
        }

        row.Embedding = (await engine.EmbedAsync(image, new EmbedOptions(Pooling, Normalize, Preprocess), row.Name, cancellationToken).ConfigureAwait(false)).Features;
    }

    /// <summary>The rows as one Parquet part with this kind's columns.</summary>
    public Task<byte[]> WritePartAsync(IReadOnlyList<PartRow> rows, CancellationToken cancellationToken) => Kind == JobKind.Tokens
        ? ParquetTable.ToBytesAsync(rows.Select(r => new TokenRow { Name = r.Name, Etag = r.Etag, Tokens = r.Tokens is null ? null : [.. r.Tokens], Error = r.Error }), cancellationToken)
        : ParquetTable.ToBytesAsync(rows.Select(r => new EmbeddingRow { Name = r.Name, Etag = r.Etag, Embedding = r.Embedding is null ? null : [.. r.Embedding], Error = r.Error }), cancellationToken);
}
