using Mage.Jobs.Storage;
using Mage.Jobs.Vocabulary;

namespace Mage.Jobs.Tests.Storage;

public sealed class BlobNamesTests
{
    private const string SixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("j1")]
    [InlineData("A.b_c-9")]
    [InlineData("...")]
    [InlineData(SixtyFour)]
    public void IsId_accepts(string id) => Assert.True(BlobNames.IsId(id));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(SixtyFour + "x")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a\\b")]
    [InlineData("é")]
    [InlineData("\nj1")]
    public void IsId_refuses(string? id) => Assert.False(BlobNames.IsId(id));

    [Theory]
    [InlineData("abc")]
    [InlineData("a-b-c")]
    [InlineData("0results9")]
    [InlineData("abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc")]
    public void IsContainerName_accepts(string name) => Assert.True(BlobNames.IsContainerName(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("Abc")]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("a--b")]
    [InlineData("a_b")]
    [InlineData("a.b")]
    [InlineData("abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcd")]
    [InlineData("\nabc")]
    public void IsContainerName_refuses(string? name) => Assert.False(BlobNames.IsContainerName(name));

    [Fact]
    public void A_trailing_newline_is_not_part_of_a_valid_name()
    {
        Assert.False(BlobNames.IsId("j1\n"));
        Assert.False(BlobNames.IsContainerName("abc\n"));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("cat.jpg")]
    [InlineData("dir/sub/cat.jpg")]
    [InlineData("with space/ünïcode.png")]
    [InlineData("...")]
    [InlineData("a/.hidden")]
    public void CheckBlobName_accepts(string name) => Assert.Null(BlobNames.CheckBlobName(name, 1024));

    [Theory]
    [InlineData(null, "The blob name is empty.")]
    [InlineData("", "The blob name is empty.")]
    [InlineData("abcde", "The blob name is 5 characters long; at most 4 are accepted.")]
    [InlineData("a\tb", "The blob name contains the control character U+0009.")]
    [InlineData("a\u0085b", "The blob name contains the control character U+0085.")]
    [InlineData("a\\b", "The blob name contains a backslash.")]
    [InlineData("/ab", "The blob name starts or ends with '/'.")]
    [InlineData("ab/", "The blob name starts or ends with '/'.")]
    [InlineData("a//b", "The blob name 'a//b' has an empty, '.' or '..' path segment.")]
    [InlineData("..", "The blob name '..' has an empty, '.' or '..' path segment.")]
    [InlineData("./b", "The blob name './b' has an empty, '.' or '..' path segment.")]
    [InlineData("a/..", "The blob name 'a/..' has an empty, '.' or '..' path segment.")]
    public void CheckBlobName_refuses(string? name, string expected) => Assert.Equal(expected, BlobNames.CheckBlobName(name, 4)?.Message);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("a/")]
    [InlineData("a/b/")]
    public void CheckPrefix_accepts(string? prefix) => Assert.Null(BlobNames.CheckPrefix(prefix, 1024));

    [Theory]
    [InlineData("/", "Prefix '/': The blob name is empty.")]
    [InlineData("a//", "Prefix 'a//': The blob name starts or ends with '/'.")]
    [InlineData("/a/", "Prefix '/a/': The blob name starts or ends with '/'.")]
    [InlineData("../", "Prefix '../': The blob name '..' has an empty, '.' or '..' path segment.")]
    [InlineData("a/../b", "Prefix 'a/../b': The blob name 'a/../b' has an empty, '.' or '..' path segment.")]
    [InlineData("a\u0001/", "Prefix 'a\u0001/': The blob name contains the control character U+0001.")]
    public void CheckPrefix_refuses(string prefix, string expected) => Assert.Equal(expected, BlobNames.CheckPrefix(prefix, 1024)?.Message);

    [Fact]
    public void A_name_too_long_for_Azure_is_nameTooLong_a_malformed_one_invalidName()
    {
        Assert.Equal(ErrorReason.InvalidName, BlobNames.CheckBlobName("a//b", 1024)!.Reason);
        Assert.Equal(ErrorReason.NameTooLong, BlobNames.CheckBlobName(new string('a', 5), 4)!.Reason);
        Assert.Null(BlobNames.CheckBlobName(new string('a', 1024), 1024));
        Assert.Equal(
            new NameProblem(ErrorReason.NameTooLong, "The blob name is 1025 characters long; at most 1024 are accepted."),
            BlobNames.CheckBlobName(new string('a', 1025), 1024));
    }

    [Fact]
    public void Segments_are_capped_at_Azure_s_254()
    {
        Assert.Null(BlobNames.CheckBlobName(Segments(254), 1024));
        Assert.Equal(
            new NameProblem(ErrorReason.NameTooLong, "The blob name has 255 '/'-separated segments; at most 254 are accepted (Azure's limit)."),
            BlobNames.CheckBlobName(Segments(255), 1024));
    }

    [Fact]
    public void A_suffix_lowers_both_limits_and_the_message_says_why()
    {
        var suffix = new PathSuffix(100, 3);

        Assert.Null(BlobNames.CheckBlobName(new string('a', 924), 1024, suffix));
        Assert.Equal(
            "The blob name is 925 characters long; at most 924 are accepted (Azure allows 1024 characters in a blob name, " +
            "and the service keeps 100 of them for the paths it builds from this one).",
            BlobNames.CheckBlobName(new string('a', 925), 1024, suffix)!.Message);
        Assert.Null(BlobNames.CheckBlobName(Segments(251), 1024, suffix));
        Assert.Equal(
            "The blob name has 252 '/'-separated segments; at most 251 are accepted (Azure allows 254 segments in a blob name, " +
            "and the service keeps 3 of them for the paths it builds from this one).",
            BlobNames.CheckBlobName(Segments(252), 1024, suffix)!.Message);

        // A lower setting is the limit when it is the lower one, and then says so without Azure.
        Assert.Equal("The blob name is 11 characters long; at most 10 are accepted.", BlobNames.CheckBlobName(new string('a', 11), 10, suffix)!.Message);
    }

    [Fact]
    public void Ids_are_at_most_MaxIdLength_characters()
    {
        Assert.True(BlobNames.IsId(new string('i', BlobNames.MaxIdLength)));
        Assert.False(BlobNames.IsId(new string('i', BlobNames.MaxIdLength + 1)));
    }

    [Fact]
    public void CheckPrefix_length_limit_does_not_count_the_trailing_slash()
    {
        Assert.Null(BlobNames.CheckPrefix("abcd/", 4));
        Assert.Equal("Prefix 'abcde/': The blob name is 5 characters long; at most 4 are accepted.", BlobNames.CheckPrefix("abcde/", 4)?.Message);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("a", "a/")]
    [InlineData("a/", "a/")]
    [InlineData("a///", "a/")]
    [InlineData("a/b", "a/b/")]
    public void AsFolder_ends_with_exactly_one_slash(string? prefix, string expected) => Assert.Equal(expected, BlobNames.AsFolder(prefix));

    [Theory]
    // First 16 hex digits of SHA-256, computed outside .NET (Python hashlib); "abc" is the FIPS 180-2 test vector.
    [InlineData("abc", "ba7816bf8f01cfea")]
    [InlineData("\"0x8DC1\"", "4799e543705b7a62")]
    [InlineData("../evil", "2d6afc710923ce47")]
    public void ShortHash_is_the_first_sixteen_hex_digits_of_sha256(string value, string expected)
    {
        Assert.Equal(expected, BlobNames.ShortHash(value));
        Assert.Equal(expected, BlobNames.ShortHash(value));
    }

    [Fact]
    public void ShortHash_is_path_safe_and_distinguishes_inputs()
    {
        var a = BlobNames.ShortHash("a");
        var b = BlobNames.ShortHash("b");

        Assert.Equal(16, a.Length);
        Assert.Matches("^[0-9a-f]{16}$", a);
        Assert.NotEqual(a, b);
        Assert.Equal(16, BlobNames.ShortHash("").Length);
    }

    private static string Segments(int count) => string.Join('/', Enumerable.Repeat("s", count));
}
