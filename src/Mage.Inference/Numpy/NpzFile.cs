using System.Collections.Frozen;
using System.IO.Compression;

namespace Mage.Inference.Numpy;

/// <summary>
/// Reads and writes NPZ archives (<c>np.savez</c> / <c>np.savez_compressed</c>): a ZIP whose
/// entries are NPY documents named "&lt;key&gt;.npy", stored or deflated.
/// </summary>
/// <remarks>Stateless and thread-safe. Streams are left open.</remarks>
public static class NpzFile
{
    private const string Extension = ".npy";

    /// <summary>Reads every array in the archive at <paramref name="path"/>.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads every array in the archive, keyed by entry name without ".npy".</summary>
    /// <exception cref="NpyFormatException">Not a ZIP archive, or an entry is not a valid NPY document (the entry is named).</exception>
    public static IReadOnlyDictionary<string, NpyArray> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new NpyFormatException($"Not an NPZ file: the input is not a ZIP archive ({ex.Message})", ex);
        }

        using (archive)
        {
            var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                // Directory entries end with '/' and have no content.
                if (entry.FullName.EndsWith('/'))
                {
                    continue;
                }

                var key = entry.FullName.EndsWith(Extension, StringComparison.Ordinal)
                    ? entry.FullName[..^Extension.Length]
                    : entry.FullName;
                try
                {
                    using var entryStream = entry.Open();
                    arrays[key] = NpyFile.Read(entryStream, entry.Length);
                }
                catch (NpyFormatException ex)
                {
                    throw new NpyFormatException($"NPZ entry '{entry.FullName}': {ex.Message}", ex);
                }
                catch (InvalidDataException ex)
                {
                    throw new NpyFormatException($"NPZ entry '{entry.FullName}' is damaged: {ex.Message}", ex);
                }
            }

            return arrays.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// Writes <paramref name="arrays"/> as an NPZ archive, one "&lt;name&gt;.npy" entry each,
    /// deflated when <paramref name="compressed"/> (like <c>np.savez_compressed</c>), stored otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or repeated.</exception>
    public static void Write(Stream stream, IEnumerable<(string Name, NpyArray Array)> arrays, bool compressed = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arrays);
        var level = compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression;
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, array) in arrays)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(arrays));
            ArgumentNullException.ThrowIfNull(array, nameof(arrays));
            if (!names.Add(name))
            {
                throw new ArgumentException($"Array name '{name}' appears more than once; NPZ keys must be unique.", nameof(arrays));
            }

            var entry = archive.CreateEntry(name + Extension, level);
            using var entryStream = entry.Open();
            NpyFile.Write(entryStream, array);
        }
    }

    /// <summary>Writes an NPZ archive to a new file (replacing any existing one).</summary>
    public static void Write(string path, IEnumerable<(string Name, NpyArray Array)> arrays, bool compressed = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.Create(path);
        Write(stream, arrays, compressed);
    }
}
