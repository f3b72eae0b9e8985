"""The local WebSocket gateway: what API Gateway's WebSocket API does for the app on AWS.

- Sockets (the `websockets` library) on VIGIL_WS_PORT. Each handshake becomes an API-Gateway-shaped
  `$connect` event for the app's handler; a status other than 2xx refuses the handshake with that
  status, so the socket never opens. Each message becomes a `$default` event, each close a
  `$disconnect` one. The handlers are found in `app.websocket_handlers`, like the event pump finds
  its sources: a new handler needs no wiring here.
- The `@connections` management API (POST sends a frame, GET describes, DELETE closes; 410
  GoneException for an id that is not open) on a second port, with http.server: the `websockets`
  server cannot answer plain HTTP requests on its own port. `app.websocket_api.session` is pointed at
  it, because Chalice builds the management endpoint from the API's AWS domain itself.

Nothing here is packaged into a Lambda.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from botocore.client import BaseClient
from chalice import Chalice
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from infra.local.pump import LOCAL_ACCOUNT_ID, LambdaContext

API_ID = "local"
STAGE = "api"
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's limit for one message
SEND_TIMEOUT_SECONDS = 5.0
HANDLER_TIMEOUT_SECONDS = 30.0
START_TIMEOUT_SECONDS = 10.0
_CONNECTIONS_PATH = re.compile(r"^(?:/[^/@]+)?/@connections/(?P<id>[^/]+)$")


def new_connection_id() -> str:
    """Shaped like API Gateway's (base64 of ten random bytes), '=' and all, so ids get URL-quoted."""
    return base64.b64encode(os.urandom(10)).decode("ascii")


def _iso_millis(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class _OpenConnection:
    socket: ServerConnection
    connected_at: float
    last_active_at: float
    source_ip: str
    user_agent: str


class ManagementApiSession:
    """Stands in for the boto3 session of `app.websocket_api`: its management API client talks to the
    local gateway whatever endpoint Chalice asks for (`https://{api}.execute-api.{region}.../api`)."""

    def __init__(self, endpoint_url: str, *, region: str) -> None:
        self._endpoint_url = endpoint_url
        self._session = boto3.session.Session(region_name=region)

    @property
    def region_name(self) -> str | None:
        return self._session.region_name

    def client(self, service_name: str, **options: Any) -> BaseClient:
        if service_name == "apigatewaymanagementapi":
            options["endpoint_url"] = self._endpoint_url
        return self._session.client(service_name, **options)


class LocalWebsocketGateway:
    def __init__(
        self,
        app: Chalice,
        *,
        host: str,
        port: int,
        region: str,
        logger: logging.Logger | None = None,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._region = region
        self._logger = logger or logging.getLogger("vigil.websockets")
        self._open: dict[str, _OpenConnection] = {}
        self._handshaking: dict[ServerConnection, str] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._management: ThreadingHTTPServer | None = None
        self._management_thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"ws://{self._host}:{self._port}"

    @property
    def management_url(self) -> str:
        assert self._management is not None, "start() first"
        return f"http://{self._host}:{self._management.server_address[1]}/{STAGE}"

    def start(self) -> None:
        self._management = ThreadingHTTPServer((self._host, 0), _management_handler(self))
        self._management.daemon_threads = True
        self._management_thread = threading.Thread(
            target=self._management.serve_forever, name="vigil-ws-management", daemon=True
        )
        self._management_thread.start()
        self._app.websocket_api.session = ManagementApiSession(self.management_url, region=self._region)

        self._thread = threading.Thread(target=self._run_loop, name="vigil-ws-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the WebSocket gateway did not start on {self.url}")
        if self._start_error is not None:
            raise RuntimeError(f"the WebSocket gateway cannot serve {self.url}: {self._start_error}")

    def stop(self) -> None:
        """Close every socket (each gets its `$disconnect`), then the management API."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=HANDLER_TIMEOUT_SECONDS)
        if self._management is not None:
            self._management.shutdown()
            self._management.server_close()

    def _run_loop(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:  # reported by start()
            self._start_error = error
        finally:
            self._ready.set()
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with serve(
            self._session,
            self._host,
            self._port,
            process_request=self._handshake,
            max_size=MAX_MESSAGE_BYTES,
            logger=self._logger,
        ):
            self._ready.set()
            await self._stop.wait()

    # ---- the three routes -------------------------------------------------------------------------

    async def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        connection_id = new_connection_id()
        url = urlsplit(request.path)
        event = self._event("$connect", "CONNECT", connection_id, connection, request=request)
        event["queryStringParameters"] = dict(parse_qsl(url.query)) or None
        try:
            answer = await asyncio.to_thread(self._invoke, "$connect", event)
        except Exception:
            self._logger.exception("$connect handler raised")
            return connection.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
        status = int(answer.get("statusCode", 200)) if isinstance(answer, dict) else 200
        if not 200 <= status < 300:
            body = answer.get("body") if isinstance(answer, dict) else None
            return connection.respond(HTTPStatus(status), f"{body or HTTPStatus(status).phrase}\n")
        with self._lock:
            self._handshaking[connection] = connection_id
        return None

    async def _session(self, connection: ServerConnection) -> None:
        with self._lock:
            connection_id = self._handshaking.pop(connection)
            now = time.time()
            self._open[connection_id] = _OpenConnection(
                socket=connection,
                connected_at=now,
                last_active_at=now,
                source_ip=str(connection.remote_address[0]),
                user_agent=str(connection.request.headers.get("User-Agent", ""))
                if connection.request
                else "",
            )
        try:
            async for message in connection:
                with self._lock:
                    self._open[connection_id].last_active_at = time.time()
                event = self._event("$default", "MESSAGE", connection_id, connection)
                event["requestContext"]["messageId"] = uuid.uuid4().hex[:16]
                if isinstance(message, bytes):
                    event.update(body=base64.b64encode(message).decode("ascii"), isBase64Encoded=True)
                else:
                    event["body"] = message
                await self._invoke_logged("$default", event)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._open.pop(connection_id, None)
            event = self._event("$disconnect", "DISCONNECT", connection_id, connection)
            event["requestContext"]["disconnectStatusCode"] = connection.close_code
            event["requestContext"]["disconnectReason"] = connection.close_reason or ""
            await self._invoke_logged("$disconnect", event)

    async def _invoke_logged(self, route_key: str, event: dict[str, Any]) -> None:
        try:
            await asyncio.to_thread(self._invoke, route_key, event)
        except Exception:
            self._logger.exception("%s handler raised", route_key)

    def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        config = self._app.websocket_handlers.get(route_key)
        if config is None:
            return None  # no handler: API Gateway accepts the connection and drops the message
        name = config.name
        function_name = f"{self._app.app_name}-local-{name}"
        context = LambdaContext(
            function_name=function_name,
            function_version="$LATEST",
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{LOCAL_ACCOUNT_ID}:function:{function_name}",
            memory_limit_in_mb="128",
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            deadline_monotonic=time.monotonic() + HANDLER_TIMEOUT_SECONDS,
        )
        return self._app.handler_map[name](event, context)

    def _event(
        self,
        route_key: str,
        event_type: str,
        connection_id: str,
        connection: ServerConnection,
        *,
        request: Request | None = None,
    ) -> dict[str, Any]:
        """The event API Gateway's WebSocket API hands a Lambda proxy integration."""
        now = time.time()
        with self._lock:
            opened = self._open.get(connection_id)
        connected_at = opened.connected_at if opened else now
        request_context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": datetime.fromtimestamp(now, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now * 1000),
            "connectedAt": int(connected_at * 1000),
            "stage": STAGE,
            "requestId": uuid.uuid4().hex[:16],
            "domainName": f"{self._host}:{self._port}",
            "connectionId": connection_id,
            "apiId": API_ID,
            "identity": {
                "sourceIp": str(connection.remote_address[0]),
                "userAgent": opened.user_agent if opened else "",
            },
        }
        event: dict[str, Any] = {"requestContext": request_context, "isBase64Encoded": False}
        if request is not None:
            headers = {name: value for name, value in request.headers.raw_items()}
            event["headers"] = headers
            event["multiValueHeaders"] = {name: request.headers.get_all(name) for name in headers}
            request_context["identity"]["userAgent"] = headers.get("User-Agent", "")
        return event

    # ---- the @connections management API -----------------------------------------------------------

    def post_to_connection(self, connection_id: str, data: bytes) -> bool:
        with self._lock:
            opened = self._open.get(connection_id)
        if opened is None or self._loop is None:
            return False
        try:
            message: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            message = data
        future = asyncio.run_coroutine_threadsafe(opened.socket.send(message), self._loop)
        try:
            future.result(timeout=SEND_TIMEOUT_SECONDS)
        except ConnectionClosed:
            return False
        with self._lock:
            opened.last_active_at = time.time()
        return True

    def connection_info(self, connection_id: str) -> dict[str, Any] | None:
        with self._lock:
            opened = self._open.get(connection_id)
        if opened is None:
            return None
        return {
            "ConnectedAt": _iso_millis(opened.connected_at),
            "Identity": {"SourceIp": opened.source_ip, "UserAgent": opened.user_agent},
            "LastActiveAt": _iso_millis(opened.last_active_at),
        }

    def delete_connection(self, connection_id: str) -> bool:
        with self._lock:
            opened = self._open.get(connection_id)
        if opened is None or self._loop is None:
            return False
        future = asyncio.run_coroutine_threadsafe(opened.socket.close(), self._loop)
        future.result(timeout=SEND_TIMEOUT_SECONDS)
        return True


def _management_handler(gateway: LocalWebsocketGateway) -> type[BaseHTTPRequestHandler]:
    class ManagementApi(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _connection_id(self) -> str | None:
            match = _CONNECTIONS_PATH.match(urlsplit(self.path).path)
            return unquote(match.group("id")) if match else None

        def _answer(
            self, status: int, body: dict[str, Any] | None = None, *, error: str | None = None
        ) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.end_headers()
            self.wfile.write(payload)

        def _gone(self) -> None:
            self._answer(HTTPStatus.GONE, {"message": None}, error="GoneException")

        def do_POST(self) -> None:
            connection_id = self._connection_id()
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if connection_id is None:
                self._answer(HTTPStatus.NOT_FOUND, {"message": "Not Found"}, error="NotFoundException")
            elif len(data) > MAX_MESSAGE_BYTES:
                self._answer(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {"message": f"message over {MAX_MESSAGE_BYTES} bytes"},
                    error="PayloadTooLargeException",
                )
            elif gateway.post_to_connection(connection_id, data):
                self._answer(HTTPStatus.OK)
            else:
                self._gone()

        def do_GET(self) -> None:
            connection_id = self._connection_id()
            info = gateway.connection_info(connection_id) if connection_id else None
            if info is None:
                self._gone()
            else:
                self._answer(HTTPStatus.OK, info)

        def do_DELETE(self) -> None:
            connection_id = self._connection_id()
            if connection_id and gateway.delete_connection(connection_id):
                self._answer(HTTPStatus.NO_CONTENT)
            else:
                self._gone()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ManagementApi
