"""Alert ingest: ``/v1/alerts/{key}`` (each integration type's native payload) and ``/v2/enqueue``
(PagerDuty Events API v2, so PagerDuty clients work by changing only the URL).

No bearer token: the integration key authenticates. Both answer 202 once the alerts are queued,
within a second whatever their number (incidents are opened or grouped right after); a request we
cannot take now is 503 (retried by every sender), never 429.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Response
from pydantic import BaseModel, ConfigDict, Field, RootModel

from chalicelib.api.fields import ResponseModel
from chalicelib.api.http import VigilBlueprint, json_body
from chalicelib.domain.alerts import pagerduty
from chalicelib.domain.errors import InvalidInput

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__)
TAGS = ("alert ingest",)


class AlertsAccepted(ResponseModel):
    status: Literal["accepted"]
    dedup_keys: list[str] = Field(description="One per alert of the payload, generated when it had none")


class NativePayload(RootModel[dict[str, Any]]):
    """The integration type's own JSON object (Alertmanager webhook v4, an SNS delivery, ...)."""

    model_config = ConfigDict(defer_build=True)  # built on first use, as RequestModel's are


# The PagerDuty models document what pagerduty.parse_event enforces, as PagerDuty does: fields it
# does not read are ignored (additionalProperties), "\S" means "not blank".
class _PagerDutyDoc(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class PagerDutyPayload(_PagerDutyDoc):
    summary: str = Field(max_length=pagerduty.SUMMARY_MAX, pattern=r"\S")
    source: str = Field(pattern=r"\S")
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: Any = Field(default=None, description="ISO 8601; kept as written")
    component: Any = None
    group: Any = None
    class_: Any = Field(default=None, alias="class")
    custom_details: Any = None


class PagerDutyLink(_PagerDutyDoc):
    href: str = Field(pattern=r"\S", description="Kept when it is an http(s) URL")
    text: Any = None


class PagerDutyImage(_PagerDutyDoc):
    src: str = Field(pattern=r"\S")
    href: Any = None
    alt: Any = None


class _PagerDutyEventFields(_PagerDutyDoc):
    routing_key: str = Field(min_length=1, description="An integration key of Vigil")
    links: list[PagerDutyLink] | None = None
    images: list[PagerDutyImage] | None = None
    client: Any = None
    client_url: Any = None


class PagerDutyTrigger(_PagerDutyEventFields):
    event_action: Literal["trigger"]
    dedup_key: str | None = Field(
        default=None, max_length=pagerduty.DEDUP_KEY_MAX, description="Omitted: a new one is made"
    )
    payload: PagerDutyPayload


class PagerDutyAcknowledge(_PagerDutyEventFields):
    event_action: Literal["acknowledge"]
    dedup_key: str = Field(max_length=pagerduty.DEDUP_KEY_MAX, pattern=r"\S")
    payload: Any = Field(default=None, description="Ignored")


class PagerDutyResolve(_PagerDutyEventFields):
    event_action: Literal["resolve"]
    dedup_key: str = Field(max_length=pagerduty.DEDUP_KEY_MAX, pattern=r"\S")
    payload: Any = Field(default=None, description="Ignored")


class PagerDutyEvent(
    RootModel[
        Annotated[
            PagerDutyTrigger | PagerDutyAcknowledge | PagerDutyResolve, Field(discriminator="event_action")
        ]
    ]
):
    """PagerDuty Events API v2: https://developer.pagerduty.com/docs/events-api-v2/overview/ (a
    trigger needs ``payload``, acknowledge and resolve need ``dedup_key``)."""

    model_config = ConfigDict(defer_build=True)


class EventProcessed(ResponseModel):
    status: Literal["success"]
    message: Literal["Event processed"]
    dedup_key: str


@bp.route(
    "/v1/alerts/{key}",
    methods=("POST",),
    summary="Take alerts in the integration type's native format (the key authenticates)",
    status=202,
    body=NativePayload,
    response=AlertsAccepted,
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
    body=PagerDutyEvent,
    response=EventProcessed,
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
