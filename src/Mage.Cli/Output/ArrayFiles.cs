using System.Text;
using Mage.Inference;
using Mage.Inference.Numpy;
using Mage.Jobs.Outputs;

namespace Mage.Cli.Output;

/// <summary>The .npy and index files the CLI writes and reads.</summary>
internal static class ArrayFiles
{
    /// <summary>
    /// The index file that records the row order of <paramref name="arrayPath"/>:
    /// <c>tokens.npy</c> → <c>tokens.index.txt</c>; a name without <c>.npy</c> gets <c>.index.txt</c> appended.
    /// </summary>
    public static string IndexPathFor(string arrayPath) =>
        arrayPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)
            ? arrayPath[..^4] + ".index.txt"
            : arrayPath + ".index.txt";

    /// <summary>Writes one name a line (UTF-8, LF), line i naming row i.</summary>
    public static void WriteIndex(string path, IEnumerable<string> names)
    {
        var text = new StringBuilder();
        foreach (var name in names)
        {
            text.Append(name).Append('\n');
        }

        File.WriteAllText(path, text.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    /// <summary>Writes token grids in Mage's one token-file format (<see cref="TokenFile"/>: int64 [N, 256]).</summary>
    public static void WriteTokens(string path, IReadOnlyList<long[]> rows)
    {
        CreateParent(path);
        using var stream = File.Create(path);
        TokenFile.Write(stream, rows);
    }

    /// <summary>Writes rows of D floats as float32 [N, D], built by the .npy builder the jobs use (<see cref="Npy.Float32Rows"/>).</summary>
    public static void WriteFloatRows(string path, IReadOnlyList<float[]> rows, int width)
    {
        var npy = Npy.Float32Rows(rows, width);
        CreateParent(path);
        using var stream = File.Create(path);
        stream.Write(npy.ToMemory().Span);
    }

    /// <summary>Reads an int32 or int64 [N, 256] token array.</summary>
    /// <exception cref="InvalidDataException">The file is not such an array; the message says what it holds.</exception>
    public static long[][] ReadTokens(string path)
    {
        NpyArray array;
        try
        {
            array = NpyFile.Read(path);
        }
        catch (NpyFormatException e)
        {
            throw new InvalidDataException($"{path} is not a readable .npy file: {e.Message}", e);
        }

        if (array.Shape.Count != 2 || array.Shape[1] != MageTokens.Count || array.DType is not (NpyDType.Int32 or NpyDType.Int64))
        {
            throw new InvalidDataException(
                $"{path} holds {array.DType} [{string.Join(", ", array.Shape)}]; mage decode needs int32 or int64 [N, {MageTokens.Count}] token ids.");
        }

        var n = array.Shape[0];
        var rows = new long[n][];
        if (array.DType == NpyDType.Int64)
        {
            var values = array.AsInt64();
            for (var r = 0; r < n; r++)
            {
                rows[r] = values.Slice(r * MageTokens.Count, MageTokens.Count).ToArray();
            }
        }
        else
        {
            var values = array.AsInt32();
            for (var r = 0; r < n; r++)
            {
                rows[r] = new long[MageTokens.Count];
                for (var i = 0; i < MageTokens.Count; i++)
                {
                    rows[r][i] = values[(r * MageTokens.Count) + i];
                }
            }
        }

        return rows;
    }

    public static void CreateParent(string path)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(parent))
        {
            Directory.CreateDirectory(parent);
        }
    }
}
