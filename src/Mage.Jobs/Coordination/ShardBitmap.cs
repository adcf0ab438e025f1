namespace Mage.Jobs.Coordination;

/// <summary>
/// The base64 bitmaps of counted shards in status documents (bit n of byte n / 8 is item n).
/// Stateless and thread-safe.
/// </summary>
internal static class ShardBitmap
{
    /// <summary>Whether bit <paramref name="index"/> is set; bits past the end are clear.</summary>
    public static bool IsSet(string bitmap, int index)
    {
        if (index < 0 || bitmap.Length == 0)
        {
            return false;
        }

        var bits = Convert.FromBase64String(bitmap);
        return index / 8 < bits.Length && (bits[index / 8] & (1 << (index % 8))) != 0;
    }

    /// <summary>
    /// <paramref name="bitmap"/> with <paramref name="indices"/> set; an empty bitmap starts with
    /// room for <paramref name="size"/> bits, and grows to hold any index past its end.
    /// </summary>
    public static string With(string bitmap, int size, IEnumerable<int> indices)
    {
        var bits = bitmap.Length == 0 ? new byte[(size + 7) / 8] : Convert.FromBase64String(bitmap);
        foreach (var index in indices)
        {
            if (bits.Length < (index / 8) + 1)
            {
                Array.Resize(ref bits, (index / 8) + 1);
            }

            bits[index / 8] |= (byte)(1 << (index % 8));
        }

        return Convert.ToBase64String(bits);
    }

    /// <summary>The set bits, in ascending order.</summary>
    public static IEnumerable<int> Indices(string bitmap)
    {
        var bits = bitmap.Length == 0 ? [] : Convert.FromBase64String(bitmap);
        for (var i = 0; i < bits.Length * 8; i++)
        {
            if ((bits[i / 8] & (1 << (i % 8))) != 0)
            {
                yield return i;
            }
        }
    }
}
