"""The web origin of the local stack, shaped like CloudFront on AWS: the dashboard's static files from
web/dist (any path without a file extension falls back to index.html, the single-page app's router
takes it from there; /docs is the API reference page), and the API's paths passed through to the API,
so the browser talks to one origin and needs no CORS.
"""

from __future__ import annotations

import http.client
import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger("vigil.local.web")

# What CloudFront routes to API Gateway (infra/template.yaml, WebDistribution): everything else is S3.
API_PREFIXES = ("/v1/", "/v2/", "/ping/")
API_PATHS = ("/openapi.json", "/health")
# Request and response headers that belong to one hop, not to the message (RFC 9110 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}
MISSING_BUILD = b"<!doctype html><title>Vigil</title><p>web/dist is missing: run <code>make web</code>.</p>"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in API_PATHS


def static_file(dist: Path, path: str) -> Path | None:
    """The file a path serves, as the CloudFront function of the template maps it; None: 404."""
    if path in ("/docs", "/docs/"):
        path = "/docs/index.html"
    elif "." not in path.rsplit("/", 1)[-1]:
        path = "/index.html"  # a client-side route
    candidate = (dist / path.lstrip("/")).resolve()
    if not candidate.is_relative_to(dist.resolve()) or not candidate.is_file():
        return None
    return candidate


def cache_control(dist: Path, file: Path) -> str:
    # Hashed names never change content: cache them for a year. index.html must be fresh on each load.
    if file.parent == dist.resolve() / "assets":
        return "public, max-age=31536000, immutable"
    return "no-cache"


class WebServer:
    def __init__(self, *, host: str, port: int, dist: Path, api_host: str, api_port: int) -> None:
        server = self
        self.dist = dist
        self.api = (api_host, api_port)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.handle(self)

            do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

            def log_message(self, format: str, *args: object) -> None:
                log.debug(format, *args)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="vigil-web", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        if is_api_path(path):
            self.proxy(request)
        elif request.command in ("GET", "HEAD"):
            self.serve_static(request, path)
        else:
            self.answer(request, HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed", "text/plain")

    def serve_static(self, request: BaseHTTPRequestHandler, path: str) -> None:
        if not (self.dist / "index.html").is_file():
            self.answer(request, HTTPStatus.SERVICE_UNAVAILABLE, MISSING_BUILD, "text/html; charset=utf-8")
            return
        file = static_file(self.dist, path)
        if file is None:
            self.answer(request, HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
            kind += "; charset=utf-8"
        self.answer(request, HTTPStatus.OK, file.read_bytes(), kind, cache_control(self.dist, file))

    def proxy(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        upstream = http.client.HTTPConnection(*self.api, timeout=60)
        try:
            upstream.request(request.command, request.path, body=body, headers=headers)
            reply = upstream.getresponse()
            content = reply.read()
        except OSError as exc:
            self.answer(request, HTTPStatus.BAD_GATEWAY, f"API unreachable: {exc}".encode(), "text/plain")
            return
        finally:
            upstream.close()
        request.send_response(reply.status, reply.reason)
        for name, value in reply.getheaders():
            if name.lower() not in HOP_BY_HOP | {"content-length"}:
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(content)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(content)

    @staticmethod
    def answer(
        request: BaseHTTPRequestHandler, status: int, body: bytes, kind: str, cache: str = "no-cache"
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Cache-Control", cache)
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
