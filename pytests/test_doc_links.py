"""Every relative link in README.md and docs/*.md points at a file (and heading) that exists.

Cheap: reads the Markdown files only, no build. Links inside fenced code blocks and
inline code are not links; http(s) and mailto links are not checked (no network).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(path: Path) -> list[tuple[int, str]]:
    links, in_fence = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        links += [(number, m.group(1)) for m in LINK.finditer(INLINE_CODE.sub("", line))]
    return links


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors, in_fence = set(), False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := re.match(r"#{1,6}\s+(.*)", line)):
            anchors.add(_anchor(m.group(1)))
    return anchors


def broken_links(documents: list[Path]) -> list[str]:
    broken = []
    for doc in documents:
        for number, target in _links(doc):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                continue
            file_part, _, anchor = target.partition("#")
            linked = (doc.parent / file_part).resolve() if file_part else doc
            where = f"{doc.relative_to(ROOT)}:{number}: ({target})"
            if not linked.exists():
                broken.append(f"{where} points at {file_part}, which does not exist")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{where}: {linked.relative_to(ROOT)} has no heading "
                              f"with anchor #{anchor}")
    return broken


def test_every_relative_link_resolves():
    broken = broken_links(_documents())
    assert not broken, (
        "broken relative links (paths are relative to the file that links; fix the path "
        "or the heading it names):\n" + "\n".join(broken))


def test_the_checker_finds_a_missing_file_and_a_missing_heading(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n## Two words\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[ok](docs/a.md#two-words) [gone](docs/b.md) [bad](docs/a.md#three)\n"
        "`[code](nowhere.md)` [web](https://example.com/x)\n"
        "```\n[fenced](nowhere.md)\n```\n[self](#missing)\n")
    assert broken_links([readme]) == [
        "README.md:1: (docs/b.md) points at docs/b.md, which does not exist",
        "README.md:1: (docs/a.md#three): docs/a.md has no heading with anchor #three",
        "README.md:6: (#missing): README.md has no heading with anchor #missing",
    ]


def test_the_readme_stays_an_entry_point():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= 200, (
        f"README.md has {lines} lines; it is the entry point (what it is, the two commands, "
        "the layer map, where each rule lives, the docs index): move topic detail to docs/*.md "
        "and link it")
