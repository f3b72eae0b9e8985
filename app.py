"""Vigil's Chalice app: wiring only. Routes live in chalicelib/api, event handlers in chalicelib/events.

The routes are wired in chalicelib/entry/api.py, the REST API function's own handler module (so that a
cold API request compiles no event handler); this file adds the event handlers and the WebSocket routes
to that same app, which is what `chalice package`, the local stack and the tests read.
"""

from typing import Any

from chalice.app import WebsocketEvent

from chalicelib.adapters.websocket_push import websocket_api
from chalicelib.entry.api import app
from chalicelib.events import alerts as alert_events
from chalicelib.events import heartbeats, notifications, probes, websocket
from chalicelib.events import incidents as incident_events
from chalicelib.events import maintenance as maintenance_events
from chalicelib.events import realtime as realtime_events
from chalicelib.events import status_pages as status_page_events
from chalicelib.events import subscribers as subscriber_events

# WebSocket handlers must be on the app itself: a Blueprint has no websocket_api, so Chalice would hand
# a blueprint's handler the raw event dict. Deployed, they run from chalicelib/entry/websocket.py.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api = websocket_api  # the one the stream publishers push through

app.register_blueprint(probes.bp)
app.register_blueprint(heartbeats.bp)
app.register_blueprint(incident_events.bp)
app.register_blueprint(notifications.bp)
app.register_blueprint(alert_events.bp)
app.register_blueprint(maintenance_events.bp)
app.register_blueprint(realtime_events.bp)
app.register_blueprint(status_page_events.bp)
app.register_blueprint(subscriber_events.bp)


@app.on_ws_connect()
def websocket_connect(event: WebsocketEvent) -> Any:
    return websocket.connect(event)


@app.on_ws_message()
def websocket_message(event: WebsocketEvent) -> None:
    websocket.message(event, app.websocket_api)


@app.on_ws_disconnect()
def websocket_disconnect(event: WebsocketEvent) -> None:
    websocket.disconnect(event)
