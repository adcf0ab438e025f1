namespace Mage.Jobs.Services;

/// <summary>The data files of an upload result.</summary>
public sealed record UploadFiles(NpyInfo Embedding, NpyInfo Tokens);
