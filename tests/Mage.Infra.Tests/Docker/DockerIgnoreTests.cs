namespace Mage.Infra.Tests.Docker;

/// <summary>The .dockerignore matcher on cases whose answer Docker's documentation states.</summary>
public sealed class DockerIgnoreTests
{
    [Theory]
    [InlineData("*.md", "README.md", true)]
    [InlineData("*.md", "docs/a.md", false)]
    [InlineData("*/*.md", "docs/a.md", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "abbc", false)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("**/bin", "bin", true)]
    [InlineData("**/bin", "src/app/bin", true)]
    [InlineData("**/bin", "src/app/bin/Release/app.dll", true)]
    [InlineData("**/bin", "src/binary", false)]
    [InlineData("**/*.pyc", "a.pyc", true)]
    [InlineData("**/*.pyc", "a/b/c.pyc", true)]
    [InlineData("docs/**", "docs/a/b.md", true)]
    [InlineData("docs/**/*.png", "docs/images/x.png", true)]
    [InlineData("docs/**/*.png", "docs/x.png", true)]
    [InlineData("/artifacts", "artifacts/log.txt", true)]
    [InlineData("build/", "build/out.o", true)]
    [InlineData("file[0-9].txt", "file7.txt", true)]
    [InlineData("file[0-9].txt", "fileA.txt", false)]
    [InlineData("a.b", "axb", false)]
    [InlineData(@"\*.txt", "*.txt", true)]
    [InlineData(@"\*.txt", "a.txt", false)]
    public void One_pattern(string pattern, string path, bool excluded)
    {
        Assert.Equal(excluded, DockerIgnore.Parse(pattern).Excludes(path));
    }

    [Fact]
    public void Negation_re_includes_and_the_last_matching_rule_wins()
    {
        var ignore = DockerIgnore.Parse("# comment\n\ndocs\n!docs/keep.md\n*.tmp\n!keep.tmp\nkeep.tmp\n");
        Assert.True(ignore.Excludes("docs/other.md"));
        Assert.False(ignore.Excludes("docs/keep.md"));
        Assert.True(ignore.Excludes("a.tmp"));
        Assert.True(ignore.Excludes("keep.tmp"));
        Assert.False(ignore.Excludes("src/a.cs"));
    }

    [Fact]
    public void Negated_directory_re_includes_everything_below_it()
    {
        var ignore = DockerIgnore.Parse("tests\n!tests/fixtures\n");
        Assert.False(ignore.Excludes("tests/fixtures/mage-tiny/manifest.json"));
        Assert.True(ignore.Excludes("tests/Mage.Jobs.Tests/A.cs"));
    }
}
