namespace Mage.Jobs.Uploads;

/// <summary>The data files of an upload result.</summary>
public sealed record UploadFiles(NpyInfo Embedding, NpyInfo Tokens);
