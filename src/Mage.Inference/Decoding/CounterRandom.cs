namespace Mage.Inference.Decoding;

/// <summary>
/// Stateless counter-based uniform random numbers: every draw is a pure function of its key
/// (seed, image index, step, position, stream), so a decoded image never depends on how many
/// other images shared its batch, on thread scheduling or on draw order.
/// </summary>
/// <remarks>
/// <para>
/// Construction: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
/// 1, 2, 3", SC 2011; the generator behind Random123, cuRAND and JAX). The 64-bit key is the seed
/// (low word first). The 128-bit counter is (imageIndex low, imageIndex high, step,
/// position | stream &lt;&lt; 24). The first two 32-bit output words form a 64-bit integer whose top
/// 52 bits k give u = (2k + 1) / 2^53: an odd multiple of 2^-53, so exactly representable and
/// strictly inside (0, 1). (Taking 53 bits as (k + 0.5) / 2^53 would round the largest k up to 1.)
/// </para>
/// <para>Thread safety: all members are pure and safe to call from any thread.</para>
/// </remarks>
internal static class CounterRandom
{
    /// <summary>Positions are packed into 24 bits of the counter.</summary>
    public const int MaxPosition = (1 << 24) - 1;

    /// <summary>Streams are packed into the top 8 bits of the counter.</summary>
    public const int MaxStream = 255;

    private const uint M0 = 0xD2511F53;
    private const uint M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9;
    private const uint W1 = 0xBB67AE85;

    /// <summary>
    /// Returns a uniform double strictly inside (0, 1) on the grid of odd multiples of 2^-53.
    /// </summary>
    /// <param name="seed">Caller-chosen seed.</param>
    /// <param name="imageIndex">Index of the image within the request (any value).</param>
    /// <param name="step">Decoding step, 0 or more.</param>
    /// <param name="position">Position, 0 .. <see cref="MaxPosition"/>.</param>
    /// <param name="stream">Independent stream for the same position, 0 .. <see cref="MaxStream"/>.</param>
    public static double Uniform(ulong seed, long imageIndex, int step, int position, int stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, MaxPosition);
        ArgumentOutOfRangeException.ThrowIfNegative(stream);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stream, MaxStream);

        var (x0, x1, _, _) = Philox4x32x10(
            (uint)imageIndex,
            (uint)((ulong)imageIndex >> 32),
            (uint)step,
            (uint)position | ((uint)stream << 24),
            (uint)seed,
            (uint)(seed >> 32));
        return ToUnitInterval(((ulong)x1 << 32) | x0);
    }

    /// <summary>The top 52 bits k of a generator output as (2k + 1) / 2^53.</summary>
    internal static double ToUnitInterval(ulong bits) => ((bits >> 12) * 2 + 1) * (1.0 / (1UL << 53));

    /// <summary>The raw Philox4x32-10 block function (counter c0..c3, key k0..k1).</summary>
    internal static (uint X0, uint X1, uint X2, uint X3) Philox4x32x10(
        uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }

            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }

        return (c0, c1, c2, c3);
    }
}
