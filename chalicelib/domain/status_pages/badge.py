"""`badge.svg`: a shields.io-style badge of the page's overall status."""

from __future__ import annotations

from chalicelib.domain.status_pages.model import PageSnapshot


def badge_svg(snapshot: PageSnapshot) -> bytes:
    """UTF-8 SVG with role="img", an aria-label and a <title>."""
    raise NotImplementedError
