"""Alert ingest: ``/v1/alerts/{key}`` (each integration type's native payload) and ``/v2/enqueue``
(PagerDuty Events API v2, so PagerDuty clients work by changing only the URL).

No bearer token: the integration key authenticates. Both answer 202 once the alerts are queued,
within a second whatever their number (incidents are opened or grouped right after); a request we
cannot take now is 503 (retried by every sender), never 429.
"""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api.http import VigilBlueprint, json_body
from chalicelib.domain.alerts import pagerduty
from chalicelib.domain.errors import InvalidInput

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__, schemas="chalicelib.api.schemas.alerts")
TAGS = ("alert ingest",)


@bp.route(
    "/v1/alerts/{key}",
    methods=("POST",),
    summary="Take alerts in the integration type's native format (the key authenticates)",
    status=202,
    body="NativePayload",
    response="AlertsAccepted",
    auth=False,
    tags=TAGS,
    errors=(400, 403, 404, 413, 503),
)
def take_alerts(key: str) -> dict[str, Any]:
    from chalicelib.usecases import alert_taking

    request = bp.current_request
    integration = alert_taking.authenticate(key)
    accepted = alert_taking.take_native(
        integration,
        json_body(request),
        sns_message_type=request.headers.get("x-amz-sns-message-type"),
    )
    return {"status": "accepted", "dedup_keys": accepted.dedup_keys}


@bp.route(
    "/v2/enqueue",
    methods=("POST",),
    summary="PagerDuty Events API v2: send an event with an integration key as routing_key",
    status=202,
    body="PagerDutyEvent",
    response="EventProcessed",
    auth=False,
    tags=TAGS,
    errors=(400, 404, 413, 503),
)
def enqueue() -> dict[str, Any] | Response:
    from chalicelib.usecases import alert_taking

    try:
        event = json_body(bp.current_request)
    except InvalidInput as error:
        return _invalid("invalid request", "Invalid request", [error.message], error)
    routing_key = event.get("routing_key") if isinstance(event, dict) else None
    problems = [] if isinstance(routing_key, str) and routing_key else ["routing_key: is required"]
    try:
        alert = pagerduty.parse_event(event)
    except pagerduty.InvalidEvent as invalid:
        problems += invalid.errors
    if problems or not isinstance(routing_key, str):
        return _invalid("invalid event", "Event object is invalid", problems)
    accepted = alert_taking.accept(alert_taking.authenticate(routing_key), [alert])
    return {"status": "success", "message": "Event processed", "dedup_key": accepted.dedup_keys[0]}


def _invalid(status: str, message: str, errors: list[str], error: InvalidInput | None = None) -> Response:
    """PagerDuty's 400, with our Code/Message alongside for clients of the rest of the API."""
    return Response(
        body={
            "status": status,
            "message": message,
            "errors": errors,
            "Code": "BadRequestError",
            "Message": error.message if error is not None else errors[0],
        },
        status_code=400,
    )
