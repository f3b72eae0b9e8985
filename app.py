"""Vigil's Chalice app: wiring only. Routes live in chalicelib/api, event handlers in chalicelib/events."""

from chalice import Chalice

from chalicelib.api import (
    alerts,
    auth,
    incidents,
    integrations,
    meta,
    orgs,
    overview,
    policies,
    preferences,
    services,
    users,
)
from chalicelib.events import alerts as alert_events
from chalicelib.events import incidents as incident_events
from chalicelib.events import notifications, probes
from chalicelib.observability import log_requests

app = Chalice(app_name="vigil")
app.api.cors = False

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
app.register_blueprint(alerts.bp)
app.register_blueprint(probes.bp)
app.register_blueprint(incident_events.bp)
app.register_blueprint(notifications.bp)
app.register_blueprint(alert_events.bp)
