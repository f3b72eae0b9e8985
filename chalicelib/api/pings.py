"""/ping/{token}: healthchecks.io's ping paths for heartbeat monitors (no auth, text answers).

A tool set up for a self-hosted healthchecks works after changing only the host: GET, POST or HEAD on
``/ping/{token}`` (success), ``/start``, ``/fail``, ``/log`` or ``/{exit_status}``, with ``?rid=``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from chalice import Response

from chalicelib.api.http import QueryParam, VigilBlueprint
from chalicelib.domain.errors import VigilError
from chalicelib.domain.heartbeats import MAX_RUN_ID_CHARS

# Use cases are imported inside the routes that call them (docs/architecture.md, "What a cold start imports").

bp = VigilBlueprint(__name__)
TAGS = ("heartbeats",)
METHODS = ("GET", "POST", "HEAD")
# Cron jobs post whatever they have (curl --data-raw sends form encoding; others text or bytes).
CONTENT_TYPES = ["*/*"]
RID = QueryParam(
    "rid",
    "Run id pairing a start with its finish (a UUID).",
    {"type": "string", "maxLength": MAX_RUN_ID_CHARS},
)


def _text(body: str, status: int) -> Response:
    method = bp.current_request.method
    return Response(
        body="" if method == "HEAD" else body,
        status_code=status,
        headers={"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
    )


def _ping(token: str, suffix: str) -> Response:
    from chalicelib.usecases import heartbeats

    request = bp.current_request
    context: Mapping[str, object] = request.context or {}
    params: Mapping[str, str] = request.query_params or {}
    raw = request.raw_body or b""
    try:
        heartbeats.ping(
            heartbeats.PingRequest(
                token=token,
                suffix=suffix,
                body=raw.encode("utf-8") if isinstance(raw, str) else raw,
                rid=params.get("rid"),
                request_id=str(context.get("requestId") or uuid.uuid4()),
                at_ms=int(time.time() * 1000),
            )
        )
    except VigilError as error:
        return _text("not found" if error.status_code == 404 else error.message, error.status_code)
    return _text("OK", 200)


@bp.route(
    "/ping/{token}",
    methods=METHODS,
    summary="A heartbeat's job succeeded (no auth; healthchecks.io's path)",
    auth=False,
    tags=TAGS,
    query=(RID,),
    text=True,
    content_types=CONTENT_TYPES,
)
def ping_success(token: str) -> Response:
    return _ping(token, "")


@bp.route(
    "/ping/{token}/{suffix}",
    methods=METHODS,
    summary="start, fail, log, or an exit status 0-255 (0 success) of a heartbeat's job (no auth)",
    auth=False,
    tags=TAGS,
    query=(RID,),
    text=True,
    content_types=CONTENT_TYPES,
)
def ping_suffix(token: str, suffix: str) -> Response:
    return _ping(token, suffix)
