"""The heartbeat sweep: each minute, the heartbeats whose deadline passed go down."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.domain.clock import now_seconds
from chalicelib.usecases import heartbeats

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), description="Turn down the heartbeats whose deadline passed")
def sweep_overdue_heartbeats(event: CloudWatchEvent) -> None:
    heartbeats.sweep_overdue(now=now_seconds())
