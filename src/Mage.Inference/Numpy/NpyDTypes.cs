namespace Mage.Inference.Numpy;

/// <summary>Mappings between <see cref="NpyDType"/>, numpy descr strings and CLR types.</summary>
internal static class NpyDTypes
{
    /// <summary>The descr strings accepted in headers, in <see cref="NpyDType"/> order.</summary>
    public static IReadOnlyList<string> SupportedDescrs { get; } = ["<f4", "<f8", "<i8", "<i4", "|u1", "|b1"];

    /// <summary>The numpy descr string, e.g. "&lt;f4".</summary>
    public static string Descr(this NpyDType dtype) => SupportedDescrs[(int)Check(dtype)];

    /// <summary>Bytes per element.</summary>
    public static int ItemSize(this NpyDType dtype) => Check(dtype) switch
    {
        NpyDType.Float64 or NpyDType.Int64 => 8,
        NpyDType.Float32 or NpyDType.Int32 => 4,
        _ => 1,
    };

    /// <summary>Parses a header descr; throws <see cref="NpyFormatException"/> naming the
    /// unsupported value and the supported ones.</summary>
    public static NpyDType Parse(string descr)
    {
        ArgumentNullException.ThrowIfNull(descr);

        // numpy writes one-byte types with '|', but '<' and '=' are legal spellings of the same thing.
        var normalized = descr.Length == 3 && descr[2] == '1' && descr[0] is '<' or '='
            ? "|" + descr[1..]
            : descr;
        var index = SupportedDescrs.ToList().IndexOf(normalized);
        if (index >= 0)
        {
            return (NpyDType)index;
        }

        var hint = descr.StartsWith('>') ? " Big-endian arrays are not supported; save with arr.astype(arr.dtype.newbyteorder('<'))." : string.Empty;
        throw new NpyFormatException(
            $"NPY dtype '{descr}' is not supported; supported dtypes are {string.Join(", ", SupportedDescrs)}.{hint}");
    }

    /// <summary>The dtype for a CLR element type: float, double, long, int, byte or bool.</summary>
    public static NpyDType For<T>()
        where T : unmanaged =>
        typeof(T) == typeof(float) ? NpyDType.Float32
        : typeof(T) == typeof(double) ? NpyDType.Float64
        : typeof(T) == typeof(long) ? NpyDType.Int64
        : typeof(T) == typeof(int) ? NpyDType.Int32
        : typeof(T) == typeof(byte) ? NpyDType.UInt8
        : typeof(T) == typeof(bool) ? NpyDType.Bool
        : throw new NotSupportedException(
            $"Element type {typeof(T).Name} has no NPY dtype; use float, double, long, int, byte or bool.");

    private static NpyDType Check(NpyDType dtype) =>
        Enum.IsDefined(dtype) ? dtype : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown NPY dtype.");
}
