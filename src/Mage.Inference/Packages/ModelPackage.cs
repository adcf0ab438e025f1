using System.Security.Cryptography;
using System.Text.Json;

namespace Mage.Inference.Packages;

/// <summary>
/// A validated model package folder (see tools/export/README.md). Loading checks the manifest
/// against the constants this library implements and, unless told otherwise, the size and
/// SHA-256 of every file. Immutable and thread-safe once loaded.
/// </summary>
public sealed class ModelPackage
{
    /// <summary>The graph roles every package provides.</summary>
    public static readonly IReadOnlyList<string> GraphRoles = ["tokenizer", "encoder", "decoder", "detokenizer"];

    /// <summary>Manifest precision of float32 graphs.</summary>
    public const string Float32 = "fp32";

    /// <summary>Manifest precision of float16 graphs (float32 inputs and outputs; the tokenizer's nearest-code search in float64).</summary>
    public const string Float16 = "fp16";

    /// <summary>
    /// Manifest precision of packages whose transformer graphs multiply in int8 and whose VQGAN
    /// convolutions are int8 except those the manifest lists in <see cref="ModelManifest.FloatConvolutions"/>.
    /// </summary>
    public const string Int8 = "int8";

    /// <summary>The precisions a manifest may name.</summary>
    public static readonly IReadOnlyList<string> Precisions = [Float32, Float16, Int8];

    /// <summary>Manifest quantizer of tokenizers whose nearest-code search is float32 (packages without the field).</summary>
    public const string QuantizerFloat32 = "float32";

    /// <summary>Manifest quantizer of tokenizers whose nearest-code distances and argmin are float64 inside the graph.</summary>
    public const string QuantizerFloat64 = "float64";

    /// <summary>The quantizers a manifest may name.</summary>
    public static readonly IReadOnlyList<string> Quantizers = [QuantizerFloat32, QuantizerFloat64];

    private ModelPackage(string folder, ModelManifest manifest, bool hashesVerified)
    {
        Folder = folder;
        Manifest = manifest;
        HashesVerified = hashesVerified;
    }

    /// <summary>The package folder, absolute.</summary>
    public string Folder { get; }

    /// <summary>The parsed manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>Whether every file's size and SHA-256 were checked at load.</summary>
    public bool HashesVerified { get; }

    /// <summary>Width of the features (D).</summary>
    public int FeatureDim => Manifest.FeatureDim;

    /// <summary>A short identity for records: the SHA-256 of the manifest's file list, hex, 16 chars.</summary>
    public string ContentHash
    {
        get
        {
            var joined = string.Join('\n', Manifest.Files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}:{f.Value.Sha256}"));
            return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(joined)))[..16];
        }
    }

    /// <summary>Absolute path of a graph by role (tokenizer, encoder, decoder, detokenizer).</summary>
    public string GraphPath(string role) =>
        Manifest.Graphs.TryGetValue(role, out var file)
            ? Path.Combine(Folder, file)
            : throw new ModelPackageException($"Model package {Folder} has no '{role}' graph; it has {string.Join(", ", Manifest.Graphs.Keys)}.");

    /// <summary>Absolute path of the golden outputs file, or null when the package has none.</summary>
    public string? GoldenPath => Manifest.Files.ContainsKey("golden.npz") ? Path.Combine(Folder, "golden.npz") : null;

    /// <summary>Loads and validates a package folder.</summary>
    /// <param name="folder">The package folder.</param>
    /// <param name="verifyHashes">Check each file's size and SHA-256 (reads every byte once).</param>
    /// <exception cref="ModelPackageException">The folder is not a valid package; the message names the file and the problem.</exception>
    public static ModelPackage Load(string folder, bool verifyHashes = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new ModelPackageException($"Model package folder {full} does not exist.");
        }

        var manifestPath = Path.Combine(full, "manifest.json");
        if (!File.Exists(manifestPath))
        {
            throw new ModelPackageException($"{full} is not a model package: it has no manifest.json.");
        }

        ModelManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllBytes(manifestPath))
                ?? throw new ModelPackageException($"{manifestPath} is empty.");
        }
        catch (JsonException e)
        {
            throw new ModelPackageException($"{manifestPath} is not valid JSON: {e.Message}", e);
        }

        Validate(full, manifest);
        if (verifyHashes)
        {
            VerifyFiles(full, manifest);
        }

        return new ModelPackage(full, manifest, verifyHashes);
    }

    private static void Validate(string folder, ModelManifest m)
    {
        void Expect<T>(string field, T actual, T expected)
        {
            if (!EqualityComparer<T>.Default.Equals(actual, expected))
            {
                throw new ModelPackageException(
                    $"Model package {folder}: manifest field '{field}' is {actual}, but this version of Mage supports only {expected}.");
            }
        }

        Expect("format", m.Format, "mage-model-package");
        Expect("format_version", m.FormatVersion, 1);
        Expect("image_size", m.ImageSize, MageTokens.ImageSize);
        Expect("token_grid", m.TokenGrid, MageTokens.GridSize);
        Expect("num_tokens", m.NumTokens, MageTokens.Count);
        Expect("codebook_size", m.CodebookSize, MageTokens.CodebookSize);
        Expect("mask_id", (long)m.MaskId, MageTokens.MaskId);
        Expect("fake_class_id", (long)m.FakeClassId, MageTokens.FakeClassId);
        if (!Precisions.Contains(m.Precision))
        {
            throw new ModelPackageException($"Model package {folder}: precision '{m.Precision}' is not one of {string.Join(", ", Precisions)}.");
        }

        if (!Quantizers.Contains(m.Quantizer))
        {
            throw new ModelPackageException($"Model package {folder}: quantizer '{m.Quantizer}' is not one of {string.Join(", ", Quantizers)}.");
        }

        if (m.FloatConvolutions.Count > 0 && m.Precision != Int8)
        {
            throw new ModelPackageException($"Model package {folder}: float_convolutions lists {m.FloatConvolutions.Count} layers, but only int8 packages quantize convolutions; precision is '{m.Precision}'.");
        }

        if (m.FloatConvolutions.FirstOrDefault(n => string.IsNullOrWhiteSpace(n) || !n.StartsWith("vqgan.", StringComparison.Ordinal)) is { } bad)
        {
            throw new ModelPackageException($"Model package {folder}: float_convolutions entry '{bad}' is not a VQGAN layer name (vqgan.encoder.* or vqgan.decoder.*).");
        }

        if (m.FeatureDim is <= 0 or > 65536)
        {
            throw new ModelPackageException($"Model package {folder}: feature_dim {m.FeatureDim} is out of range 1..65536.");
        }

        foreach (var role in GraphRoles)
        {
            if (!m.Graphs.TryGetValue(role, out var file) || string.IsNullOrEmpty(file))
            {
                throw new ModelPackageException($"Model package {folder}: manifest names no '{role}' graph.");
            }

            // A graph path must stay inside the package: no rooted paths, no '..'.
            if (Path.IsPathRooted(file) || file.Contains("..", StringComparison.Ordinal) || file.Contains('/') || file.Contains('\\'))
            {
                throw new ModelPackageException($"Model package {folder}: graph file name '{file}' for '{role}' must be a plain file name inside the package.");
            }

            if (!m.Files.ContainsKey(file))
            {
                throw new ModelPackageException($"Model package {folder}: graph '{file}' has no entry in the manifest's file list.");
            }
        }
    }

    private static void VerifyFiles(string folder, ModelManifest m)
    {
        foreach (var (name, entry) in m.Files)
        {
            if (Path.IsPathRooted(name) || name.Contains("..", StringComparison.Ordinal) || name.Contains('/') || name.Contains('\\'))
            {
                throw new ModelPackageException($"Model package {folder}: file name '{name}' must be a plain file name inside the package.");
            }

            var path = Path.Combine(folder, name);
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ModelPackageException($"Model package {folder}: file {name} is listed in the manifest but missing.");
            }

            if (info.Length != entry.Bytes)
            {
                throw new ModelPackageException($"Model package {folder}: file {name} has {info.Length} bytes, the manifest says {entry.Bytes}; the package is incomplete or altered.");
            }

            using var stream = File.OpenRead(path);
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelPackageException($"Model package {folder}: file {name} has SHA-256 {actual}, the manifest says {entry.Sha256}; the file is corrupt or altered.");
            }
        }
    }
}
