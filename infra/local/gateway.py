"""What API Gateway answers before the app sees a request, for the local stack's HTTP server.

API Gateway (REST) routes on resource and method: a method a resource does not have, or a path no
resource matches, is answered by the gateway itself with 403 ``{"message": "Missing Authentication
Token"}`` (its MISSING_AUTHENTICATION_TOKEN response), whatever the method, TRACE included. Chalice's
local server answers the methods it knows with the app's 405 and any other (TRACE, CONNECT,
PROPFIND...) with http.server's HTML 501; this handler answers as the gateway does, so a client
sees the same thing locally and on AWS.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalice.local import ChaliceRequestHandler, RouteMatcher

MISSING_TOKEN = json.dumps({"message": "Missing Authentication Token"}).encode()
CHALICE_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's local handler, behind API Gateway's routing by resource and method."""

    routes: dict[str, dict[str, Any]] = {}  # set by handler_for
    matcher = RouteMatcher([])

    def handle(self) -> None:
        # API Gateway puts the caller's address in requestContext.identity.sourceIp, where chalice
        # local always says 127.0.0.1; login throttling is keyed on it. One converter per connection.
        converter = self.local_gateway.event_converter
        converter.LOCAL_SOURCE_IP = self.client_address[0]
        # API Gateway gives every request an id (requestContext.requestId), the same for a delivery it
        # retries; chalice local gives none. Heartbeat pings count once per request id.
        if not getattr(converter, "vigil_request_ids", False):
            create = converter.create_lambda_event

            def with_request_id(*args: Any, **kwargs: Any) -> dict[str, Any]:
                event: dict[str, Any] = create(*args, **kwargs)
                event["requestContext"].setdefault("requestId", str(uuid.uuid4()))
                return event

            converter.create_lambda_event = with_request_id  # type: ignore[method-assign]
            converter.vigil_request_ids = True  # type: ignore[attr-defined]
        super().handle()

    def __getattr__(self, name: str) -> Any:
        # http.server dispatches on do_<METHOD>: every method reaches the gateway's routing.
        if name.startswith("do_"):
            return self._route
        raise AttributeError(name)

    def _route(self) -> None:
        if self._is_deployed(self.command, self.path):
            self._generic_handle()
            return
        self._drain_body()
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": "MissingAuthenticationTokenException",
        }
        self._send_http_response(403, headers, None if self.command == "HEAD" else MISSING_TOKEN)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _route

    def _is_deployed(self, method: str, path: str) -> bool:
        try:
            resource = self.matcher.match_route(path).route
        except ValueError:
            # Chalice answers an unknown path as the gateway does (with its variant for a request
            # carrying an Authorization header), for the methods it has handlers for.
            return method in CHALICE_METHODS
        methods = self.routes[resource]
        if method == "OPTIONS" and any(entry.cors for entry in methods.values()):
            return True  # a CORS preflight API Gateway answers from the route's CORS configuration
        return method in methods

    def _drain_body(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > 0:
            self.rfile.read(length)


def handler_for(app: Any) -> type[GatewayRequestHandler]:
    """The handler class for ``app``'s routes (http.server makes one instance per connection)."""
    routes = app.routes
    return type(
        "AppGatewayRequestHandler",
        (GatewayRequestHandler,),
        {"routes": routes, "matcher": RouteMatcher(list(routes))},
    )
