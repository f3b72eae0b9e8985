"""The WebSocket API's functions ($connect, $default, $disconnect) without the REST API.

Chalice packages them with the handlers app.websocket_*, which would import every route; their
handlers are these instead (infra/template.yaml): Chalice's own wrapper (a WebsocketEvent in, API
Gateway's answer out) around the same functions as app.py's.
"""

from typing import Any

from chalice.app import WebsocketEvent, WebsocketEventSourceHandler

from chalicelib.adapters.websocket_push import websocket_api
from chalicelib.events import websocket


def _message(event: WebsocketEvent) -> None:
    websocket.message(event, websocket_api)


def _handler(function: Any) -> WebsocketEventSourceHandler:
    return WebsocketEventSourceHandler(function, WebsocketEvent, websocket_api)


websocket_connect = _handler(websocket.connect)
websocket_message = _handler(_message)
websocket_disconnect = _handler(websocket.disconnect)
