#!/usr/bin/env python3
"""Checks relative links in the repository's Markdown: README.md, docs/*.md, tools/**/README.md
and bench/**/README.md. Every [text](path) and [text](path#anchor) must name an existing file or
folder, and an anchor must name a heading of the target (GitHub's slugs: lowercase, punctuation
other than '-' and '_' dropped, spaces to '-', repeats numbered -1, -2, ...). External links
(http, https, mailto) are not checked. Links inside code spans and fenced code are ignored.

Usage: tools/docs/check_links.py [ROOT]   Exit status 0 when every link resolves, 1 otherwise.
       tools/docs/check_links.py --self-test   Checks the checker on a small tree of known answers.
"""
import re
import sys
from pathlib import Path

LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)


def markdown_files(root: Path):
    files = [root / "README.md"]
    files += sorted((root / "docs").glob("*.md"))
    files += sorted((root / "tools").glob("**/README.md"))
    files += sorted((root / "bench").glob("**/README.md"))
    return [f for f in files if f.is_file() and "node_modules" not in f.parts]


def prose_lines(text: str):
    """Yields (line number, line) outside fenced code, with inline code spans blanked."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield number, re.sub(r"(`+)(.+?)\1", lambda c: " " * len(c.group(0)), line)


def slug(heading: str) -> str:
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path, cache: dict) -> set:
    if path not in cache:
        seen: dict = {}
        found = set()
        text = path.read_text(encoding="utf-8")
        for _, line in prose_lines(text):
            found.update(HTML_ANCHOR.findall(line))
        for line in _heading_lines(text):
            base = slug(line)
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def _heading_lines(text: str):
    fence = None
    for line in text.splitlines():
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        h = HEADING.match(line)
        if h:
            yield h.group(2)


def check(root: Path):
    problems = []
    cache: dict = {}
    count = 0
    for md in markdown_files(root):
        text = md.read_text(encoding="utf-8")
        for number, line in prose_lines(text):
            targets = LINK.findall(line) + IMAGE.findall(line)
            ref = REFDEF.match(line)
            if ref:
                targets.append(ref.group(1))
            for target in targets:
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                    continue  # http:, https:, mailto: ...
                count += 1
                where = f"{md.relative_to(root)}:{number}"
                path_part, _, anchor = target.partition("#")
                if path_part:
                    resolved = (root / path_part.lstrip("/")) if path_part.startswith("/") else (md.parent / path_part)
                    resolved = resolved.resolve()
                    if not resolved.exists():
                        problems.append(f"{where}: {target}: no such file")
                        continue
                else:
                    resolved = md
                if anchor and resolved.is_file() and resolved.suffix == ".md":
                    if anchor.lower() not in anchors(resolved, cache):
                        problems.append(f"{where}: {target}: no heading #{anchor} in {resolved.relative_to(root.resolve()) if resolved.is_relative_to(root.resolve()) else resolved}")
    return count, problems


def self_test() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        (root / "tools" / "x").mkdir(parents=True)
        (root / "docs" / "a.md").write_text(
            "# A\n## Run it: `mage worker` (v2)\n## Run it: `mage worker` (v2)\n### Snake_case & more!\n"
            "```\n# not a heading\n[fenced](gone.md)\n```\n"
            "[ok](#run-it-mage-worker-v2-1) [ok](#snake_case--more) [bad](#not-a-heading)\n", encoding="utf-8")
        (root / "tools" / "x" / "README.md").write_text(
            "[ok](../../docs/a.md#a) [bad](../../docs/b.md) `[code](gone.md)` [ext](https://example.com/x)\n"
            "[ok](../../docs/) ![bad image](img.png)\n", encoding="utf-8")
        (root / "README.md").write_text("[ok](docs/a.md) [bad](docs/a.md#nope)\n", encoding="utf-8")
        count, problems = check(root)
        expected = {"docs/a.md:9: #not-a-heading", "tools/x/README.md:1: ../../docs/b.md",
                    "tools/x/README.md:2: img.png", "README.md:1: docs/a.md#nope"}
        found = {p.split(": no ")[0] for p in problems}  # "file:line: target"
        ok = found == expected and count == 9
        print(f"docs links self-test: {'passed' if ok else 'FAILED'} ({count} links, {len(problems)} broken)")
        if not ok:
            print("expected:", sorted(expected))
            print("found:   ", sorted(found))
        return 0 if ok else 1


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]).resolve()
    count, problems = check(root)
    for p in problems:
        print(p)
    print(f"docs links: {count} checked, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
