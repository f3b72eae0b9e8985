"""The WebSocket routes ($connect, $default, $disconnect): registered on the app in app.py, deployed
from chalicelib/entry/websocket.py (a WebSocket function imports no REST route and no stream consumer).
"""

from __future__ import annotations

import json

from chalice import Response
from chalice.app import WebsocketAPI, WebsocketDisconnectedError, WebsocketEvent

from chalicelib.domain import realtime as rules
from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import NotPermitted, Unauthenticated
from chalicelib.usecases import realtime


def connect(event: WebsocketEvent) -> Response | None:
    """Spend the ticket of the query string; a refusal fails the handshake with its status."""
    params = event.to_dict().get("queryStringParameters") or {}
    try:
        realtime.open_connection(
            str(params.get("ticket") or ""),
            connection_id=event.connection_id,
            org_id=params.get("org_id"),
            now=now_seconds(),
        )
    except (Unauthenticated, NotPermitted) as error:
        return Response(body={"Code": error.code, "Message": error.message}, status_code=error.status_code)
    return None


def message(event: WebsocketEvent, websocket_api: WebsocketAPI) -> None:
    try:
        websocket_api.send(event.connection_id, json.dumps(rules.reply_to(event.body)))
    except WebsocketDisconnectedError:
        realtime.close_connection(event.connection_id)


def disconnect(event: WebsocketEvent) -> None:
    realtime.close_connection(event.connection_id)
