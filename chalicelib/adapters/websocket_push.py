"""Sending to WebSocket connections through API Gateway's management API (`app.websocket_api`).

Outside a websocket handler Chalice does not know which API it belongs to, so the pusher configures
it from the API id the template passes in (VIGIL_WEBSOCKET_API_ID) before the first send.
"""

from __future__ import annotations

from typing import Any

from chalice.app import WebsocketAPI, WebsocketDisconnectedError

STAGE = "api"  # Chalice's WebSocket stage, as packaged


class _WebsocketAPI(WebsocketAPI):
    """Chalice's WebsocketAPI with its boto3 session made on first use: boto3 (and s3transfer) is ~80 ms
    of a cold start, and a push is what needs it. Assigning a session (the local stack does) still works."""

    _session: Any = None

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3  # on the first push (see the class's docstring)

            self._session = boto3.session.Session()
        return self._session

    @session.setter
    def session(self, value: Any) -> None:
        self._session = value


# The container's one WebsocketAPI: app.py makes it `app.websocket_api` (which the local stack points at
# its gateway), and the stream publishers push through it, as Lambda imports them without app.py.
websocket_api: WebsocketAPI = _WebsocketAPI()


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
