"""Vigil's Chalice app: wiring only. Routes live in chalicelib/api, event handlers in chalicelib/events."""

from typing import Any

import boto3
from chalice import Chalice
from chalice.app import WebsocketEvent

from chalicelib.api import (
    alerts,
    auth,
    incidents,
    integrations,
    maintenance,
    meta,
    orgs,
    overview,
    pings,
    policies,
    preferences,
    realtime,
    services,
    status_pages,
    status_public,
    subscribers,
    users,
)
from chalicelib.events import alerts as alert_events
from chalicelib.events import heartbeats, notifications, probes
from chalicelib.events import incidents as incident_events
from chalicelib.events import maintenance as maintenance_events
from chalicelib.events import realtime as realtime_events
from chalicelib.events import status_pages as status_page_events
from chalicelib.events import subscribers as subscriber_events
from chalicelib.observability import log_requests

app = Chalice(app_name="vigil")
app.api.cors = False
# WebSocket handlers must be on the app itself: a Blueprint has no websocket_api, so Chalice would hand
# a blueprint's handler the raw event dict.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.session.Session()

app.register_middleware(log_requests, "http")
app.register_blueprint(meta.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(users.bp)
app.register_blueprint(orgs.bp)
app.register_blueprint(services.bp)
app.register_blueprint(overview.bp)
app.register_blueprint(incidents.bp)
app.register_blueprint(policies.bp)
app.register_blueprint(preferences.bp)
app.register_blueprint(integrations.bp)
app.register_blueprint(maintenance.bp)
app.register_blueprint(status_pages.bp)
app.register_blueprint(status_public.bp)
app.register_blueprint(alerts.bp)
app.register_blueprint(probes.bp)
app.register_blueprint(heartbeats.bp)
app.register_blueprint(pings.bp)
app.register_blueprint(incident_events.bp)
app.register_blueprint(notifications.bp)
app.register_blueprint(alert_events.bp)
app.register_blueprint(maintenance_events.bp)
app.register_blueprint(realtime.bp)
app.register_blueprint(subscribers.bp)
app.register_blueprint(realtime_events.bp)
app.register_blueprint(status_page_events.bp)
app.register_blueprint(subscriber_events.bp)


@app.on_ws_connect()
def websocket_connect(event: WebsocketEvent) -> Any:
    return realtime_events.connect(event)


@app.on_ws_message()
def websocket_message(event: WebsocketEvent) -> None:
    realtime_events.message(event, app.websocket_api)


@app.on_ws_disconnect()
def websocket_disconnect(event: WebsocketEvent) -> None:
    realtime_events.disconnect(event)
