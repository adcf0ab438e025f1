using Mage.Inference.Editing;

namespace Mage.Inference.Tests.Editing;

public sealed class UncropPlanTests
{
    [Fact]
    public void Half_scale_is_centred_and_keeps_the_middle_tokens()
    {
        var plan = UncropPlan.Create(0.5);

        Assert.Equal(128, plan.Size);
        Assert.Equal(new PixelBox(64, 64, 128, 128), plan.Placed);
        Assert.Equal(256 - 64, plan.Unknown.Count);
        Assert.False(plan.Unknown[4, 4]);
        Assert.False(plan.Unknown[11, 11]);
        Assert.True(plan.Unknown[3, 4]);
        Assert.True(plan.Unknown[12, 11]);
    }

    [Theory]
    [InlineData(0.3, null, null)]
    [InlineData(0.0625, null, null)]
    [InlineData(0.5, 0, 0)]
    [InlineData(0.75, 60, 3)]
    [InlineData(0.99, 0, 3)]
    public void Tokens_with_any_pixel_outside_the_placed_image_are_unknown(double scale, int? x, int? y)
    {
        var plan = UncropPlan.Create(scale, x is null ? null : (x.Value, y!.Value));

        int size = (int)Math.Round(256 * scale, MidpointRounding.AwayFromZero);
        Assert.Equal(size, plan.Size);
        Assert.Equal(x ?? ((256 - size) / 2), plan.Placed.X);
        Assert.Equal(y ?? ((256 - size) / 2), plan.Placed.Y);
        for (int row = 0; row < 16; row++)
        {
            for (int column = 0; column < 16; column++)
            {
                bool inside = column * 16 >= plan.Placed.X && (column * 16) + 16 <= plan.Placed.Right
                    && row * 16 >= plan.Placed.Y && (row * 16) + 16 <= plan.Placed.Bottom;
                Assert.Equal(!inside, plan.Unknown[row, column]);
            }
        }
    }

    [Theory]
    [InlineData(1.0, "scale")]
    [InlineData(0.05, "scale")]
    [InlineData(double.NaN, "scale")]
    [InlineData(0.999, "rounds")]
    public void Invalid_scales_are_rejected(double scale, string expected)
    {
        var error = Assert.Throws<InvalidRequestException>(() => UncropPlan.Create(scale));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_smallest_scale_is_MageDefaults_and_named_in_the_refusal()
    {
        Assert.Equal(MageTokens.GridSize, UncropPlan.Create(MageDefaults.MinUncropScale).Size);
        var error = Assert.Throws<InvalidRequestException>(() => UncropPlan.Create(MageDefaults.MinUncropScale * 0.99));
        Assert.EndsWith("it must be at least 0.0625 and below 1.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(129, 0)]
    [InlineData(0, -1)]
    public void Positions_that_do_not_fit_are_rejected(int x, int y)
    {
        var error = Assert.Throws<InvalidRequestException>(() => UncropPlan.Create(0.5, (x, y)));
        Assert.Contains("between 0 and 128", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_model_canvas_is_accepted()
    {
        Assert.Throws<InvalidRequestException>(() => UncropPlan.Create(0.5, canvas: 512));
    }
}
