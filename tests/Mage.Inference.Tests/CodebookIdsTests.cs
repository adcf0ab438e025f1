using Mage.Inference.Engine;
using Mage.Inference.Decoding;
using Mage.Inference.Runtime;
using Mage.Inference.Tests.Runtime;

namespace Mage.Inference.Tests;

/// <summary>
/// Codebook ids are checked in one place: the engine, the model and the decoder report an
/// offending id with the same message (the decoder adds that the mask id is allowed too).
/// </summary>
public sealed class CodebookIdsTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private const string Expected = "Row 0 position 17 holds id 1500; it must be a codebook id 0..1023";

    [Fact]
    public async Task Every_entry_point_reports_an_id_outside_the_codebook_with_one_message()
    {
        var tokens = new long[256];
        tokens[17] = 1500;
        await using var engine = new MageEngine(fixture.Model);

        var fromEngine = await Assert.ThrowsAsync<InvalidRequestException>(() => engine.FeaturesAsync(tokens, FeaturePooling.Mean));
        var fromModel = Assert.Throws<InvalidRequestException>(() => fixture.Model.Detokenize(tokens, 1, new float[3 * 256 * 256]));
        var fromDecoder = await Assert.ThrowsAsync<InvalidRequestException>(async () =>
            await HostDecodeLoop.DecodeAsync([new DecodeRow(tokens, 1, 0)], new DecodeOptions(2, 1, true), (_, _, _, _) => ValueTask.CompletedTask));

        Assert.Equal(Expected + ".", fromEngine.Message);
        Assert.Equal(Expected + ".", fromModel.Message);
        Assert.Equal(Expected + " or the mask id 2024.", fromDecoder.Message);
    }

    [Fact]
    public void A_batch_names_the_grid_and_the_position_of_the_offending_id()
    {
        var ids = new long[3 * 256];
        ids[(2 * 256) + 5] = -1;
        var error = Assert.Throws<InvalidRequestException>(() => CodebookIds.Check(ids));
        Assert.StartsWith("Row 2 position 5 holds id -1;", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_mask_id_counts_as_unknown_only_where_it_is_allowed()
    {
        var grid = new long[256];
        grid[3] = MageTokens.MaskId;
        grid[200] = MageTokens.MaskId;
        Assert.Equal(2, CodebookIds.CheckGrid(grid, 0, maskAllowed: true));
        Assert.Throws<InvalidRequestException>(() => CodebookIds.CheckGrid(grid, 0, maskAllowed: false));
        Assert.Contains("255", Assert.Throws<InvalidRequestException>(() => CodebookIds.CheckGrid(new long[255], 4, maskAllowed: true)).Message, StringComparison.Ordinal);
        Assert.Contains("Row 4", Assert.Throws<InvalidRequestException>(() => CodebookIds.CheckGrid(null, 4, maskAllowed: false)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_reports_instead_of_throwing()
    {
        var grid = new long[MageTokens.Count];
        Assert.Null(CodebookIds.Problem(grid, 3, maskAllowed: false));
        grid[7] = MageTokens.MaskId;
        Assert.Null(CodebookIds.Problem(grid, 3, maskAllowed: true));
        Assert.Equal("Row 3 position 7 holds id 2024; it must be a codebook id 0..1023.", CodebookIds.Problem(grid, 3, maskAllowed: false));
        Assert.Equal("Row 0 has 5 ids; a token grid has exactly 256.", CodebookIds.Problem(new long[5], 0, maskAllowed: false));
    }
}
