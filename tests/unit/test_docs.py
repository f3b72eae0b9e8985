"""README and docs/ render as people read them, link only inside the repository, and
docs/api.md lists exactly the routes the app serves."""

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from app import app

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_SECTIONS = [
    "Quick start",
    "What `make run` starts",
    "Try it (curl, against `make run`)",
    "Accounts and organizations",
    "Uptime monitoring",
    "Heartbeat monitors",
    "HTTP monitor options",
    "Incident response",
    "Alert ingest (integrations)",
    "Maintenance windows",
    "Incident categories",
    "Status pages",
    "Real-time events",
    "The dashboard (web app)",
    "Configuration",
    "Architecture",
    "Deploying to AWS",
    "Performance",
    "Tests",
]
_ROUTE_ROW = re.compile(r"^\| ((?:GET|POST|PUT|PATCH|DELETE|HEAD)(?:, [A-Z]+)*) \| `(/[^`]*)` \|")


def _tokens(path: Path):
    return MarkdownIt("commonmark").enable("table").parse(path.read_text(encoding="utf-8"))


def _headings(path: Path, level: str) -> list[str]:
    tokens = _tokens(path)
    return [
        tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == level
    ]


def _links(path: Path) -> list[str]:
    hrefs = []
    for token in _tokens(path):
        for child in token.children or []:
            if child.type == "link_open":
                hrefs.append(str(child.attrs["href"]))
    return hrefs


def test_readme_renders_every_section_as_a_heading():
    assert _headings(ROOT / "README.md", "h2") == README_SECTIONS


def test_no_code_block_swallows_a_heading():
    for document in DOCUMENTS:
        for token in _tokens(document):
            if token.type == "fence":
                swallowed = [line for line in token.content.splitlines() if line.startswith("## ")]
                assert not swallowed, (document.name, swallowed)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_links_stay_inside_the_repository(document):
    assert "../shared" not in document.read_text(encoding="utf-8")
    for href in _links(document):
        if href.startswith(("http://", "https://", "mailto:", "#")):
            continue
        target = (document.parent / href.split("#", 1)[0]).resolve()
        assert target.is_relative_to(ROOT), (document.name, href)
        assert target.exists(), (document.name, href)


def test_readme_links_the_docs():
    assert {"docs/api.md", "docs/architecture.md"} <= set(_links(ROOT / "README.md"))


def test_the_api_guide_lists_exactly_the_served_routes():
    documented = set()
    for line in (ROOT / "docs" / "api.md").read_text(encoding="utf-8").splitlines():
        match = _ROUTE_ROW.match(line)
        if match:
            for method in match.group(1).split(", "):
                documented.add((method, match.group(2)))
    served = {(method, path) for path, methods in app.routes.items() for method in methods}
    assert documented - served == set(), "documented but not served"
    assert served - documented == set(), "served but not documented"
