"""`feed.atom`: an Atom 1.0 (RFC 4287) feed of the page's posts and maintenances."""

from __future__ import annotations

from chalicelib.domain.status_pages.model import PageSnapshot


def atom_feed(snapshot: PageSnapshot) -> bytes:
    """The feed as UTF-8 XML; entry ids are stable `tag:` URIs, so readers never show an entry twice."""
    raise NotImplementedError
