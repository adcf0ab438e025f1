using Mage.Inference.Decoding;

namespace Mage.Inference.Tests;

public sealed class SequenceRowTests
{
    [Fact]
    public void Rows_hold_the_fake_class_then_the_grid()
    {
        var tokens = Enumerable.Range(0, 2 * MageTokens.Count).Select(i => (long)(i % MageTokens.CodebookSize)).ToArray();
        var ids = new long[2 * MageTokens.SequenceLength];

        SequenceRow.WriteMany(tokens, 2, ids);

        Assert.Equal(1100, ids[0]);
        Assert.Equal(1100, ids[257]);
        Assert.Equal(tokens[..256], ids[1..257]);
        Assert.Equal(tokens[256..], ids[258..]);
        Assert.Equal(tokens[256..], SequenceRow.Tokens(ids, 1).ToArray());
    }

    [Fact]
    public void An_all_masked_row_is_the_fake_class_then_2024_everywhere()
    {
        var row = new long[MageTokens.SequenceLength];

        SequenceRow.WriteAllMasked(row);

        Assert.Equal(1100, row[0]);
        Assert.All(row[1..], id => Assert.Equal(2024, id));
    }

    [Fact]
    public void DecodeRow_AllMasked_masks_every_token_and_keeps_its_keys()
    {
        var row = DecodeRow.AllMasked(7, 3);

        Assert.Equal(256, row.InitialTokens.Length);
        Assert.All(row.InitialTokens, id => Assert.Equal(2024, id));
        Assert.Equal((7ul, 3L), (row.Seed, row.ImageIndex));
        Assert.NotSame(row.InitialTokens, DecodeRow.AllMasked(7, 3).InitialTokens);
    }
}
