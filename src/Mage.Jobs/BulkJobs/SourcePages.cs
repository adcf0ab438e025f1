using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Mage.Jobs.Options;

namespace Mage.Jobs.BulkJobs;

/// <summary>
/// Reads a job's source a page at a time from a committed position (<see cref="JobStatus.ListCursor"/>),
/// so a listing can stop after any page and a later delivery go on from there: a prefix by its
/// continuation tokens, a list blob (<see cref="JobSpec.BlobList"/>) from a byte offset, an explicit
/// list of names in one page. Reading a page again from the same position gives the same names,
/// which is what lets a retried page write the same shards.
/// </summary>
/// <remarks>Stateless view over the blob client; thread-safe.</remarks>
/// <param name="blobs">The storage account.</param>
/// <param name="spec">The job.</param>
/// <param name="firstPageSize">Names in the first page read (a whole number of shards).</param>
/// <param name="pageSize">Names in each page after it: a whole number of shards, so only a job's last shard (or one at the end of a short page) is partial.</param>
/// <param name="storage">Which blobs no message may read (<see cref="StorageSettings.IsPrivateUpload"/>): a prefix listing leaves them out.</param>
internal sealed class SourcePages(BlobServiceClient blobs, JobSpec spec, int firstPageSize, int pageSize, StorageSettings storage)
{
    /// <summary>Most bytes of one list line kept: a blob name is at most 1,024 characters, so a longer line only ever fails its row.</summary>
    private const int MaxLineBytes = 16 * 1024;

    private static readonly byte[] ByteOrderMark = [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Up to <paramref name="maxPages"/> pages from <paramref name="cursor"/> on (from the start when
    /// null). Each page is read while the caller works on the one before it (one page ahead, never
    /// past <paramref name="maxPages"/>). A list blob is read only in its version
    /// <paramref name="listETag"/>: a list changed since fails with 412.
    /// </summary>
    public IAsyncEnumerable<SourcePage> ReadAsync(string? cursor, string? listETag, int maxPages, CancellationToken cancellationToken)
    {
        var pages = spec.BlobList is { } list
            ? ReadListAsync(list, cursor is null ? 0 : long.Parse(cursor, NumberStyles.None, CultureInfo.InvariantCulture), listETag, cancellationToken)
            : spec.Blobs is { } names ? ReadNamesAsync(names) : ReadPrefixAsync(spec.SourcePrefix, recursive: true, cursor, cancellationToken);
        return ReadAheadAsync(pages, maxPages, cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="maxPages"/> pages of one unit of a job listed in ranges, from
    /// <paramref name="cursor"/> on (its start when null), read ahead as <see cref="ReadAsync"/> does.
    /// </summary>
    public IAsyncEnumerable<SourcePage> ReadFolderAsync(ListFolder folder, string? cursor, int maxPages, CancellationToken cancellationToken) =>
        ReadAheadAsync(ReadPrefixAsync(folder.Prefix, folder.Recursive, cursor, cancellationToken), maxPages, cancellationToken);

    private static async IAsyncEnumerable<SourcePage> ReadAheadAsync(IAsyncEnumerable<SourcePage> pages, int maxPages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = pages.GetAsyncEnumerator(cancellationToken);
        var pending = reader.MoveNextAsync().AsTask();
        try
        {
            for (var read = 1; await pending.ConfigureAwait(false); read++)
            {
                var page = reader.Current;
                var last = page.Next is null || read == maxPages;
                pending = last ? Task.FromResult(false) : reader.MoveNextAsync().AsTask();
                yield return page;
            }
        }
        finally
        {
            // A caller that stops early (a failed job) leaves a page being read: it ends before the reader goes.
            await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await reader.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async IAsyncEnumerable<SourcePage> ReadNamesAsync(IReadOnlyList<string> names)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield return new SourcePage([.. names.Select(n => new ShardBlob(n, null))], null);
    }

    /// <summary>The blobs under <paramref name="prefix"/>: all of them, or (not <paramref name="recursive"/>) those outside its virtual folders.</summary>
    private async IAsyncEnumerable<SourcePage> ReadPrefixAsync(string? prefix, bool recursive, string? cursor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = blobs.GetBlobContainerClient(spec.SourceContainer);
        var size = firstPageSize;
        while (true)
        {
            // One page per request, so the size can change after the first; the token carries the position.
            var (items, token) = recursive
                ? await source.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).AsPages(cursor, size).Select(p => (p.Values.ToList(), p.ContinuationToken)).FirstAsync(cancellationToken).ConfigureAwait(false)
                : await source.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix, cancellationToken).AsPages(cursor, size)
                    .Select(p => (p.Values.Where(item => item.IsBlob).Select(item => item.Blob).ToList(), p.ContinuationToken)).FirstAsync(cancellationToken).ConfigureAwait(false);
            cursor = string.IsNullOrEmpty(token) ? null : token;
            yield return new SourcePage([.. items.Where(item => !storage.IsPrivateUpload(spec.SourceContainer, item.Name)).Select(item => new ShardBlob(item.Name, item.Properties.ETag?.ToString()))], cursor);
            if (cursor is null)
            {
                yield break;
            }

            size = pageSize;
        }
    }

    /// <summary>
    /// Lines of UTF-8 (<c>\n</c> or <c>\r\n</c>; a byte order mark and blank lines skipped), read as
    /// a stream from <paramref name="offset"/>; each page's position is the byte offset after its last line.
    /// </summary>
    private async IAsyncEnumerable<SourcePage> ReadListAsync(string list, long offset, string? listETag, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var blob = blobs.GetBlobContainerClient(spec.SourceContainer).GetBlobClient(list);
        var options = new BlobOpenReadOptions(allowModifications: false)
        {
            Position = offset,
            Conditions = listETag is null ? null : new BlobRequestConditions { IfMatch = new ETag(listETag) },
        };
        var stream = await blob.OpenReadAsync(options, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[64 * 1024];
            var line = new MemoryStream();
            var size = firstPageSize;
            var page = new List<ShardBlob>(size);
            var position = offset; // of the next byte read
            var atStart = offset == 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                var start = 0;
                while (start < read)
                {
                    var end = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                    var take = (end < 0 ? read : end) - start;
                    line.Write(buffer, start, (int)Math.Min(take, Math.Max(0, MaxLineBytes - line.Length)));
                    position += take;
                    if (end < 0)
                    {
                        break;
                    }

                    position++; // the newline
                    start = end + 1;
                    if (TakeLine(line, ref atStart) is { } name)
                    {
                        page.Add(new ShardBlob(name, null));
                        if (page.Count == size)
                        {
                            yield return new SourcePage(page, position.ToString(CultureInfo.InvariantCulture));
                            size = pageSize;
                            page = new List<ShardBlob>(size);
                        }
                    }
                }
            }

            if (TakeLine(line, ref atStart) is { } last)
            {
                page.Add(new ShardBlob(last, null));
            }

            yield return new SourcePage(page, null);
        }
    }

    /// <summary>The name a finished line holds (null for a blank line), emptying <paramref name="line"/>.</summary>
    private static string? TakeLine(MemoryStream line, ref bool atStart)
    {
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (atStart && bytes.StartsWith(ByteOrderMark))
        {
            bytes = bytes[ByteOrderMark.Length..];
        }

        atStart = false;
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r')
        {
            bytes = bytes[..^1];
        }

        var name = bytes.Length == 0 ? null : Encoding.UTF8.GetString(bytes);
        line.SetLength(0);
        return name;
    }
}
