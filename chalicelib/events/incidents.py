"""Incident housekeeping on a schedule: snoozed incidents return to open when their time is up."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.domain.clock import now_seconds
from chalicelib.usecases import incidents

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), description="Return snoozed incidents to open when their time is up")
def wake_snoozed_incidents(event: CloudWatchEvent) -> None:
    incidents.wake_snoozed(now=now_seconds())
