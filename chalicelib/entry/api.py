"""The REST API function (APIHandler): every route and nothing else.

Its handler is ``chalicelib.entry.api.app`` (infra/template.yaml); app.py adds the event handlers and
the WebSocket routes to this same app object, for `chalice package` and the local stack.
"""

from chalice import Chalice

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
app.register_blueprint(maintenance.bp)
app.register_blueprint(status_pages.bp)
app.register_blueprint(status_public.bp)
app.register_blueprint(subscribers.bp)
app.register_blueprint(alerts.bp)
app.register_blueprint(pings.bp)
app.register_blueprint(realtime.bp)
