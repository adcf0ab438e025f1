using System.Text;
using Mage.Jobs.Http;

namespace Mage.Jobs.Tests.Http;

/// <summary>The request body is capped before it is read, and reading never holds more than the cap.</summary>
public sealed class ApiBodyTests
{
    private const int Cap = 1024;

    [Fact]
    public async Task A_content_length_over_the_cap_is_refused_without_reading()
    {
        await using var body = new CountingStream(new byte[10]);

        var text = await ApiBody.ReadAsync(body, ApiCallerTests.Headers(("content-length", (Cap + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))), Cap);

        Assert.Null(text);
        Assert.Equal(0, body.Requested);
    }

    [Fact]
    public async Task A_body_over_the_cap_without_a_length_is_refused_after_reading_at_most_one_byte_more()
    {
        await using var body = new CountingStream(new byte[Cap * 64]);

        var text = await ApiBody.ReadAsync(body, ApiCallerTests.Headers(), Cap);

        Assert.Null(text);
        Assert.Equal(Cap + 1, body.Requested);
    }

    [Fact]
    public async Task A_body_within_the_cap_is_read_as_utf8_without_its_byte_order_mark()
    {
        var json = """{ "jobId": "é-1" }""";
        await using var body = new CountingStream([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(json)]);

        var text = await ApiBody.ReadAsync(body, ApiCallerTests.Headers(("Content-Length", "21")), Cap);

        Assert.Equal(json, text);
    }

    /// <summary>A body that counts the bytes asked of it (MemoryStream's ReadAsync goes through Read).</summary>
    private sealed class CountingStream(byte[] content) : MemoryStream(content)
    {
        public long Requested { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Count(base.Read(buffer, offset, count), count);

        public override int Read(Span<byte> buffer) => Count(base.Read(buffer), buffer.Length);

        private int Count(int read, int count)
        {
            Requested += count;
            return read;
        }
    }
}
