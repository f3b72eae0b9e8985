"""Maintenance windows' minute schedule: services enter and leave `maintenance` as windows start and end."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.domain.clock import now_seconds
from chalicelib.usecases import maintenance

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), description="Move services in and out of maintenance windows")
def sweep_maintenance_windows(event: CloudWatchEvent) -> None:
    maintenance.sweep_due(now=now_seconds())
