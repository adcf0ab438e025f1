using Mage.Inference.Runtime;

namespace Mage.Inference.Tests.Runtime;

/// <summary>The bucket setting's syntax and how a call's rows are cut into graph runs.</summary>
public sealed class BatchPlanTests
{
    [Fact]
    public void Auto_is_powers_of_two_to_64_on_CUDA_and_natural_on_the_CPU()
    {
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], BatchPlan.Parse("auto", cuda: true).Sizes);
        Assert.Empty(BatchPlan.Parse("AUTO", cuda: false).Sizes);
        Assert.Empty(BatchPlan.Parse("none", cuda: true).Sizes);
        Assert.Equal([8, 64], BatchPlan.Parse(" 64, 8 ,8", cuda: false).Sizes);
    }

    [Theory]
    [InlineData("0", "'0' is not a size from 1 to 1024")]
    [InlineData("8,2000", "'2000' is not a size from 1 to 1024")]
    [InlineData("eight", "'eight' is not a size")]
    [InlineData("", "'' is not a size")]
    [InlineData("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "lists 17 sizes; at most 16")]
    public void A_bad_setting_is_refused_with_what_is_wrong(string setting, string expected)
    {
        var error = Assert.Throws<InvalidRequestException>(() => BatchPlan.Parse(setting, cuda: true));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Buckets_run_full_pieces_of_the_largest_size_then_pad_the_rest_to_the_smallest_that_holds_it()
    {
        var plan = BatchPlan.Parse("auto", cuda: true);
        Assert.Equal([new BatchRun(0, 64, 64), new BatchRun(64, 64, 64), new BatchRun(128, 6, 8)], plan.Split(134));
        Assert.Equal([new BatchRun(0, 3, 4)], plan.Split(3));
        Assert.Equal([new BatchRun(0, 1, 1)], plan.Split(1));
        Assert.Empty(plan.Split(0));
        Assert.Equal([new BatchRun(0, 16, 16), new BatchRun(16, 4, 16)], BatchPlan.Fixed(16).Split(20));
    }

    [Fact]
    public void Natural_plans_run_at_their_own_size_up_to_the_largest_natural_piece()
    {
        Assert.Equal([new BatchRun(0, 130, 130)], BatchPlan.Natural.Split(130));
        Assert.Equal([new BatchRun(0, 64, 64), new BatchRun(64, 64, 64), new BatchRun(128, 2, 2)], BatchPlan.Natural.Split(130, maxNatural: 64));
        Assert.All(BatchPlan.Natural.Split(130, 64), r => Assert.False(r.Padded));
    }
}
