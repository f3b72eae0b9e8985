"""`summary.json` in Atlassian Statuspage's v2 shape, so existing widgets and scripts keep working."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.status_pages.model import PageSnapshot


def summary_document(snapshot: PageSnapshot) -> dict[str, Any]:
    """`{page, status, components, incidents, scheduled_maintenances}` as Statuspage's summary.json."""
    raise NotImplementedError
