"""The README is a door to docs/: it stays short, links every page, and no link is broken."""

from __future__ import annotations

import re
from pathlib import Path

from tests.server import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.M | re.S)


def _links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text()))


def _anchors(path: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#+ (.+)$", FENCE.sub("", path.read_text()), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        if n:
            seen[f"{slug}-{n}"] = 1
    return set(seen)


def test_readme_is_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= 250, f"README.md has {lines} lines; move detail into docs/"


def test_readme_links_every_docs_page():
    linked = {link.split("#")[0] for link in _links(ROOT / "README.md")}
    missing = [p.name for p in DOCS.glob("*.md") if f"docs/{p.name}" not in linked]
    assert not missing, f"README.md links no {missing}"


def test_relative_links_and_anchors_resolve():
    broken = []
    for page in PAGES:
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue  # http(s), mailto: not checked here
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {link} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{page.relative_to(ROOT)}: {link} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_variable_the_server_or_client_reads_is_documented():
    """`.env.example` documents every variable (a line `NAME=`), and so does configuration.md."""
    sources = [*ROOT.glob("graphs/**/*.py"), *ROOT.glob("sdk_client/**/*.py")]
    named = {
        name
        for path in sources
        for name in re.findall(r"\"((?:MEMORY|LANGGRAPH|LANGSMITH)_[A-Z_]+)\"", path.read_text())
    }
    assert {"MEMORY_EMBEDDING_RUNTIME", "MEMORY_API_KEYS", "LANGGRAPH_API_URL"} <= named
    example = (ROOT / ".env.example").read_text()
    configuration = (DOCS / "configuration.md").read_text()
    missing = sorted(n for n in named if not re.search(rf"^#? ?{n}=", example, flags=re.M))
    assert missing == [], "not in .env.example"
    assert sorted(n for n in named if f"`{n}`" not in configuration) == []


def _where_things_live() -> str:
    text = (DOCS / "how-it-works.md").read_text()
    start = text.index("## Where things live")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_map_of_where_things_live_matches_the_tree():
    """Every path the map names exists, and every module is named (itself or its folder)."""
    rows = "\n".join(line for line in _where_things_live().splitlines() if line.startswith("|"))
    named = set(re.findall(r"`((?:graphs|sdk_client)/[\w/.]*)`", rows))
    gone = sorted(p for p in named if not (ROOT / p).exists())
    assert not gone, f"docs/how-it-works.md names modules that are gone: {gone}"
    unnamed = []
    for module in sorted([*ROOT.glob("graphs/**/*.py"), *ROOT.glob("sdk_client/**/*.py")]):
        rel = module.relative_to(ROOT).as_posix()
        if module.name in ("__init__.py", "__main__.py"):
            continue
        folders = {f"{parent.as_posix()}/" for parent in Path(rel).parents}
        if rel not in named and not folders & named:
            unnamed.append(rel)
    assert not unnamed, f"docs/how-it-works.md's map does not name {unnamed}"
