"""`index.html`: the public page, static and self-contained (no script, no external asset)."""

from __future__ import annotations

from chalicelib.domain.status_pages.model import PageSnapshot


def index_html(snapshot: PageSnapshot) -> bytes:
    """The complete page as UTF-8 HTML."""
    raise NotImplementedError
