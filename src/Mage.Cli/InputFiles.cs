namespace Mage.Cli;

/// <summary>Expands the image and folder arguments of tokenize and embed into files, in a stable order.</summary>
internal static class InputFiles
{
    /// <summary>Extensions taken from folders; a file named explicitly is read whatever its name.</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"];

    /// <summary>
    /// Files in argument order; a folder contributes its images (recursively) sorted by path,
    /// ordinal, so the row order does not depend on the file system. Arguments that are neither
    /// a file nor a folder, and folders without images, go to <paramref name="failures"/>.
    /// </summary>
    public static List<InputFile> Expand(IReadOnlyList<string> arguments, InputFailures failures)
    {
        var files = new List<InputFile>();
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (File.Exists(argument))
            {
                files.Add(new InputFile(argument, argument));
            }
            else if (Directory.Exists(argument))
            {
                var found = Directory.EnumerateFiles(argument, "*", SearchOption.AllDirectories)
                    .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0)
                {
                    failures.Add(i, argument, $"the folder holds no images ({string.Join(", ", ImageExtensions)})");
                }

                files.AddRange(found.Select(f => new InputFile(f, f)));
            }
            else
            {
                failures.Add(i, argument, "no such file or folder");
            }
        }

        return files;
    }
}
