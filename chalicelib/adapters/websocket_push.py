"""Sending to WebSocket connections through API Gateway's management API (`app.websocket_api`).

Outside a websocket handler Chalice does not know which API it belongs to, so the pusher configures
it from the API id the template passes in (VIGIL_WEBSOCKET_API_ID) before the first send.
"""

from __future__ import annotations

import boto3
from chalice.app import WebsocketAPI, WebsocketDisconnectedError

STAGE = "api"  # Chalice's WebSocket stage, as packaged

# The container's one WebsocketAPI: app.py makes it `app.websocket_api` (which the local stack points at
# its gateway), and the stream publishers push through it, as Lambda imports them without app.py.
websocket_api = WebsocketAPI()
websocket_api.session = boto3.session.Session()


class ConnectionGone(Exception):
    """The connection no longer exists (API Gateway answered 410 Gone)."""


class WebsocketPusher:
    def __init__(self, websocket_api: WebsocketAPI, *, api_id: str) -> None:
        self._api = websocket_api
        self._api_id = api_id

    def send(self, connection_id: str, frame: str) -> None:
        if self._api_id:
            # A no-op once configured (by this call or by a websocket handler in the same container).
            self._api.configure_from_api_id(self._api_id, STAGE)
        try:
            self._api.send(connection_id, frame)
        except WebsocketDisconnectedError as exc:
            raise ConnectionGone(connection_id) from exc
