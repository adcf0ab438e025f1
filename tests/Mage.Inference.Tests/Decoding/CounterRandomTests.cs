using Mage.Inference.Decoding;

namespace Mage.Inference.Tests.Decoding;

public sealed class CounterRandomTests
{
    // Known-answer vectors of Philox4x32-10 from Random123's kat_vectors.
    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Philox_matches_the_published_known_answers(
        uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3)
    {
        Assert.Equal((x0, x1, x2, x3), CounterRandom.Philox4x32x10(c0, c1, c2, c3, k0, k1));
    }

    // Uniform's key layout and unit mapping, computed by an independent Python implementation of
    // Philox4x32-10 (written from the paper's round function and checked against the three
    // known answers above) with exact fractions: u = (2 * (bits >> 12) + 1) / 2^53. The rows after
    // the first change one key component each: the seed's high word, the image index's high word,
    // the step, the position and the stream.
    [Theory]
    [InlineData(42ul, 7L, 3, 100, 1, 0.21573289744497604)]
    [InlineData(43ul, 7L, 3, 100, 1, 0.7775325177663793)]
    [InlineData(42ul | (1ul << 40), 7L, 3, 100, 1, 0.606184775602801)]
    [InlineData(42ul, 8L, 3, 100, 1, 0.7653988233787575)]
    [InlineData(42ul, 7L | (1L << 40), 3, 100, 1, 0.3923986642413947)]
    [InlineData(42ul, 7L, 4, 100, 1, 0.34806258615545393)]
    [InlineData(42ul, 7L, 3, 101, 1, 0.19806783489547974)]
    [InlineData(42ul, 7L, 3, 100, 0, 0.19173621670664087)]
    [InlineData(0ul, 0L, 0, 0, 0, 0.8805201978886142)]
    [InlineData(12345ul, -1L, 19, 255, 1, 0.7611855322855589)]
    [InlineData(ulong.MaxValue, long.MinValue, int.MaxValue, CounterRandom.MaxPosition, CounterRandom.MaxStream, 0.20526136535167738)]
    public void Uniform_matches_an_independent_reference(ulong seed, long imageIndex, int step, int position, int stream, double expected)
    {
        Assert.Equal(expected, CounterRandom.Uniform(seed, imageIndex, step, position, stream));
    }

    [Fact]
    public void Values_are_distinct_over_many_keys()
    {
        var seen = new HashSet<double>();
        for (int step = 0; step < 20; step++)
        {
            for (int position = 0; position < 256; position++)
            {
                for (int stream = 0; stream < 2; stream++)
                {
                    Assert.True(seen.Add(CounterRandom.Uniform(1, 0, step, position, stream)));
                }
            }
        }
    }

    [Fact]
    public void Draws_look_uniform()
    {
        const int Draws = 100_000;
        const int Bins = 16;
        var counts = new int[Bins];
        double sum = 0, sumSquares = 0;
        for (int i = 0; i < Draws; i++)
        {
            double u = CounterRandom.Uniform(12345, i / 256, i % 7, i % 256, i % 2);
            Assert.True(u is > 0 and < 1, $"draw {i} is {u}");
            sum += u;
            sumSquares += u * u;
            counts[(int)(u * Bins)]++;
        }

        double mean = sum / Draws;
        double variance = (sumSquares / Draws) - (mean * mean);

        // Standard error of the mean is 0.29/sqrt(1e5) ~ 0.0009; 0.005 is over 5 sigma.
        Assert.InRange(mean, 0.495, 0.505);
        Assert.InRange(variance, 1.0 / 12 - 0.003, 1.0 / 12 + 0.003);

        double expected = (double)Draws / Bins;
        double chiSquare = counts.Sum(c => (c - expected) * (c - expected) / expected);

        // 15 degrees of freedom: the 99.99th percentile is about 44.
        Assert.True(chiSquare < 44, $"chi-square {chiSquare}");
    }

    [Fact]
    public void Extreme_generator_outputs_stay_strictly_inside_the_unit_interval()
    {
        // The smallest and largest generator outputs land half a grid step inside the interval,
        // exactly (a mapping like (k + 0.5) / 2^53 would round the largest up to 1).
        Assert.Equal(Math.ScaleB(1, -53), CounterRandom.ToUnitInterval(0));
        Assert.Equal(1 - Math.ScaleB(1, -53), CounterRandom.ToUnitInterval(ulong.MaxValue));
        Assert.Equal(0.5 + Math.ScaleB(1, -53), CounterRandom.ToUnitInterval(1UL << 63));
    }

    [Fact]
    public void Out_of_range_components_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CounterRandom.Uniform(0, 0, -1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CounterRandom.Uniform(0, 0, 0, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CounterRandom.Uniform(0, 0, 0, CounterRandom.MaxPosition + 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CounterRandom.Uniform(0, 0, 0, 0, 256));
    }
}
