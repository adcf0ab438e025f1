namespace Mage.Inference;

/// <summary>
/// Fixed token-space constants of the MAGE models (see docs/model.md#token-layout and the
/// model package manifest): a 16x16 row-major grid of codebook ids, the mask id and the fake class
/// id prepended at position 0 of every transformer row.
/// </summary>
public static class MageTokens
{
    /// <summary>Tokens per side of the grid of one 256x256 image.</summary>
    public const int GridSize = 16;

    /// <summary>Token positions per image (row-major, index = row * 16 + column).</summary>
    public const int Count = GridSize * GridSize;

    /// <summary>Pixels per side of the square patch one token covers.</summary>
    public const int PatchSize = 16;

    /// <summary>Pixels per side of the image the tokenizer reads and the detokenizer writes.</summary>
    public const int ImageSize = GridSize * PatchSize;

    /// <summary>Codebook ids are 0 .. CodebookSize - 1.</summary>
    public const int CodebookSize = 1024;

    /// <summary>Id of an unknown (masked) position.</summary>
    public const long MaskId = 2024;

    /// <summary>Class id placed at position 0 of every transformer row.</summary>
    public const long FakeClassId = 1100;

    /// <summary>Ids per transformer row: the fake class followed by the 256 tokens.</summary>
    public const int SequenceLength = Count + 1;
}
