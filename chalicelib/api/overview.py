"""/v1/orgs/{org_id}/overview: what the dashboard's overview shows of every service, in one request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.api.access import require_member
from chalicelib.api.http import QueryParam, VigilBlueprint, path_id
from chalicelib.domain.clock import iso, now_seconds
from chalicelib.domain.metrics import mean_or_none, percentile_ms, uptime_percentage

if TYPE_CHECKING:
    from chalicelib.usecases import overview

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.overview")


def summary_to_api(summary: overview.ServiceSummary) -> dict[str, Any]:
    return {
        "service_id": summary.service_id,
        "uptime_24h": summary.uptime_24h,
        "uptime_30d": summary.uptime_30d,
        "response_time_ms": summary.response_time_ms,
        "sparkline": [
            {
                "hour": iso(point.hour),
                "response_time_ms": mean_or_none(
                    point.rollup.response_time_sum_ms, point.rollup.response_time_count
                ),
                "p50_ms": percentile_ms(point.rollup.histogram, 0.50),
                "p95_ms": percentile_ms(point.rollup.histogram, 0.95),
                "uptime_percentage": uptime_percentage(point.rollup) if point.rollup.total_checks else None,
            }
            for point in summary.hours
        ],
    }


@bp.route(
    "/v1/orgs/{org_id}/overview",
    summary="Every service's uptime (24 h, 30 d), mean response time and hourly sparkline (24 h); "
    "null where no check ran",
    response="OverviewOut",
    tags=("services",),
    query=(QueryParam("service_id", "Only this service (its detail page)", {"type": "string"}),),
    errors=(400,),
)
def org_overview(org_id: str) -> dict[str, Any]:
    from chalicelib.usecases import overview, services

    require_member(bp.current_request, org_id)
    params: Mapping[str, str] = bp.current_request.query_params or {}
    only = params.get("service_id")
    if only is None:
        chosen = services.all_services(org_id)
    else:
        chosen = [services.get_service(org_id, path_id(only, what="service"))]
    summaries = overview.summarize(chosen, now=now_seconds())
    return {"items": [summary_to_api(s) for s in summaries]}
