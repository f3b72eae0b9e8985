"""`make run`: the whole of Vigil on one machine, against an embedded AWS.

1. a moto server on 127.0.0.1:$VIGIL_AWS_PORT (default 4566);
2. the resources of infra/template.yaml, deployed through moto's CloudFormation
   (then TTL enabled and the SES sender verified);
3. the Chalice app served over HTTP on 127.0.0.1:$VIGIL_API_PORT (default 8000);
4. the event pump: schedules, SQS consumers and DynamoDB stream handlers of the app;
5. the WebSocket gateway on ws://127.0.0.1:$VIGIL_WS_PORT (default 8001) and its @connections API;
6. the web origin on 127.0.0.1:$VIGIL_WEB_PORT (default 8080): the dashboard from web/dist and the
   API's paths passed through, as CloudFront does (infra/local/web.py).

Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
NAME_PREFIX = "vigil-local-"

log = logging.getLogger("vigil.local")


@dataclass(frozen=True)
class LocalConfig:
    host: str
    aws_port: int
    api_port: int
    web_port: int
    tick_seconds: float | None
    ws_port: int = 8001

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"


def read_config(env: MutableMapping[str, str]) -> LocalConfig:
    tick = env.get("VIGIL_TICK_SECONDS")
    return LocalConfig(
        host="127.0.0.1",
        aws_port=int(env.get("VIGIL_AWS_PORT", "4566")),
        api_port=int(env.get("VIGIL_API_PORT", "8000")),
        web_port=int(env.get("VIGIL_WEB_PORT", "8080")),
        tick_seconds=float(tick) if tick and float(tick) > 0 else None,
        ws_port=int(env.get("VIGIL_WS_PORT", "8001")),
    )


def stage_environment(config: LocalConfig, env: MutableMapping[str, str]) -> None:
    """What the app reads at import: the stage's variables from .chalice/config.json, moto's
    endpoint, throwaway credentials and a JWT secret generated for this session."""
    chalice_config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    stage_vars = {
        **chalice_config.get("environment_variables", {}),
        **chalice_config["stages"]["local"].get("environment_variables", {}),
    }
    for name, value in stage_vars.items():
        env.setdefault(name, value)
    env.setdefault("AWS_ACCESS_KEY_ID", "local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = REGION
    env["AWS_ENDPOINT_URL"] = config.aws_endpoint
    env["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    env["VIGIL_NAME_PREFIX"] = NAME_PREFIX
    env.setdefault("VIGIL_JWT_SECRET", secrets.token_urlsafe(48))
    # Links in emails (password reset, invitations) open pages of the dashboard, which also passes the API.
    env.setdefault("VIGIL_PUBLIC_URL", config.web_url)
    env.setdefault("VIGIL_ALLOW_PRIVATE_TARGETS", "1")
    # Ticket URLs point at the local gateway; stream handlers configure app.websocket_api with this id.
    env["VIGIL_WEBSOCKET_URL"] = config.ws_url
    env["VIGIL_WEBSOCKET_API_ID"] = "local"
    if config.tick_seconds:
        # With fast ticks, dispatch only a little ahead so new and changed services start promptly.
        env.setdefault("VIGIL_DISPATCH_HORIZON_SECONDS", str(max(2, math.ceil(config.tick_seconds * 2))))


def stream_variables(stream_arns: dict[str, str]) -> dict[str, str]:
    """vigil-local-incidents -> VIGIL_INCIDENTS_STREAM_ARN: handlers find their stream by name."""
    variables = {}
    for table_name, arn in stream_arns.items():
        short = table_name.removeprefix(NAME_PREFIX).upper().replace("-", "_")
        variables[f"VIGIL_{short}_STREAM_ARN"] = arn
    return variables


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class LocalStack:
    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self._moto: Any = None
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._pump: Any = None
        self._gateway: Any = None
        self._web: Any = None

    def start(self) -> None:
        config = self.config
        ports = (
            (config.aws_port, "VIGIL_AWS_PORT"),
            (config.api_port, "VIGIL_API_PORT"),
            (config.ws_port, "VIGIL_WS_PORT"),
            (config.web_port, "VIGIL_WEB_PORT"),
        )
        for port, what in ports:
            if not _port_free(config.host, port):
                raise SystemExit(f"port {port} is in use; stop what uses it or set {what}")
        stage_environment(config, os.environ)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        from moto.server import ThreadedMotoServer

        from infra.local.moto_locks import serialize_dynamodb

        serialize_dynamodb()
        self._moto = ThreadedMotoServer(ip_address=config.host, port=config.aws_port, verbose=False)
        self._moto.start()

        from infra.local.resources import deploy

        deployed = deploy(
            endpoint_url=config.aws_endpoint,
            region=REGION,
            name_prefix=NAME_PREFIX,
            email_sender=os.environ["VIGIL_EMAIL_FROM"],
        )
        os.environ.update(stream_variables(deployed.stream_arns))
        os.environ["VIGIL_STATUS_BUCKET"] = deployed.web_bucket

        # Only now, with the environment complete, may the app (and PynamoDB) be imported.
        sys.path.insert(0, str(PROJECT_DIR))
        from chalice.config import Config
        from chalice.local import create_local_server

        from app import app
        from infra.local.gateway import handler_for
        from infra.local.pump import EventPump
        from infra.local.websocket_gateway import LocalWebsocketGateway

        chalice_config = Config(
            chalice_stage="local",
            user_provided_params={},
            config_from_disk=json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text()),
        )
        # chalice local keeps the current request per thread, so its threaded server is safe here.
        self._server = create_local_server(app, chalice_config, config.host, config.api_port)
        # API Gateway answers methods and paths the app has no route for itself, and tells the app the
        # caller's address (gateway.py).
        self._server.server.RequestHandlerClass = functools.partial(
            handler_for(app), app_object=app, config=chalice_config
        )
        self._server_thread = threading.Thread(
            target=self._server.server.serve_forever, name="vigil-api", daemon=True
        )
        self._server_thread.start()

        self._pump = EventPump(
            app, endpoint_url=config.aws_endpoint, region=REGION, tick_seconds=config.tick_seconds
        )
        self._pump.start()
        self._gateway = LocalWebsocketGateway(app, host=config.host, port=config.ws_port, region=REGION)
        self._gateway.start()

        from infra.local.web import WebServer

        self._web = WebServer(
            host=config.host,
            port=config.web_port,
            dist=PROJECT_DIR / "web" / "dist",
            api_host=config.host,
            api_port=config.api_port,
            status_bucket=deployed.web_bucket,
            aws_endpoint=config.aws_endpoint,
        )
        self._web.start()
        self._announce(deployed.tables, app)

    def _announce(self, tables: dict[str, str], app: Any) -> None:
        config = self.config
        sources = [f"{type(s).__name__.removesuffix('EventConfig')}:{s.name}" for s in app.event_sources]
        cadence = f"every {config.tick_seconds}s" if config.tick_seconds else "on their rate"
        lines = [
            "Vigil local stack is up",
            f"  dashboard        {config.web_url}   (API reference: {config.web_url}/docs)",
            f"  status pages     {config.web_url}/status/{{slug}}   (from the embedded S3, without the API)",
            f"  API              {config.api_url}   (try {config.api_url}/health)",
            f"  OpenAPI          {config.api_url}/openapi.json",
            f"  WebSocket        {config.ws_url}   (a ticket from POST /v1/orgs/{{org_id}}/realtime/tickets)",
            f"  embedded AWS     {config.aws_endpoint}   (moto)",
            f"  sent email/SMS   {config.aws_endpoint}/moto-api/data.json",
            f"  tables           {', '.join(sorted(tables.values()))}",
            f"  event handlers   {', '.join(sources) or 'none yet'}",
            f"  schedules fire   {cadence}",
            "Ctrl-C stops everything.",
        ]
        print("\n".join(lines), flush=True)

    def stop_api(self) -> None:
        """Stop the API alone (SIGUSR1): the status pages stay served by the web origin, as on AWS."""
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
            self._server = None
            print("API stopped (SIGUSR1); everything else runs on", flush=True)

    def stop(self) -> None:
        if self._gateway is not None:
            self._gateway.stop()
        if self._web is not None:
            self._web.stop()
        if self._pump is not None:
            self._pump.stop()
        if self._server is not None:
            self._server.server.shutdown()
            self._server.server.server_close()
        if self._moto is not None:
            self._moto.stop()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("botocore", "boto3", "pynamodb", "urllib3", "vigil.websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = LocalStack(read_config(os.environ))
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stop_api = threading.Event()
    signal.signal(signal.SIGUSR1, lambda signum, frame: stop_api.set())
    try:
        stack.start()
        # The kernel may hand SIGTERM to any of the stack's threads, but Python runs handlers only in
        # the main thread, when it next runs bytecode: an untimed wait could sleep through the signal.
        while not stopping.wait(timeout=0.5):
            if stop_api.is_set():
                stop_api.clear()
                stack.stop_api()
        print("stopping...", flush=True)
    finally:
        stack.stop()
    print("stopped", flush=True)
    return 0
