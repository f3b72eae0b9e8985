"""The words a person reads on the page and in the feed, written once."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.status_pages.model import Maintenance, MaintenanceState, PostStatus

POST_STATUS_LABELS = {
    PostStatus.INVESTIGATING: "Investigating",
    PostStatus.IDENTIFIED: "Identified",
    PostStatus.MONITORING: "Monitoring",
    PostStatus.RESOLVED: "Resolved",
}


def post_status_label(status: PostStatus) -> str:
    return POST_STATUS_LABELS[status]


def time_label(epoch_seconds: int) -> str:
    """`2026-11-30 14:05 UTC`."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def maintenance_summary(maintenance: Maintenance, names: dict[str, str]) -> str:
    when = "In progress" if maintenance.state is MaintenanceState.ACTIVE else "Scheduled"
    text = f"{when}: {time_label(maintenance.starts_at)} to {time_label(maintenance.ends_at)}."
    affected = [names[cid] for cid in maintenance.component_ids if cid in names]
    if affected:
        text += f" Affects: {', '.join(affected)}."
    return text
