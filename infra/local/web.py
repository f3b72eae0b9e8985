"""The web origin of the local stack, shaped like CloudFront on AWS: the dashboard's static files from
web/dist (any path without a file extension falls back to index.html, the single-page app's router
takes it from there; /docs is the API reference page), and the API's paths passed through to the API,
so the browser talks to one origin and needs no CORS. Public status pages (/status/{slug}/...) come
from the embedded S3, where the publisher writes them, as CloudFront serves them from the web app's
bucket: they answer while the API is stopped.
"""

from __future__ import annotations

import http.client
import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("vigil.local.web")

# What CloudFront routes to API Gateway (infra/template.yaml, WebDistribution): everything else is S3.
API_PREFIXES = ("/v1/", "/v2/", "/ping/")
API_PATHS = ("/openapi.json", "/health")
STATUS_PREFIX = "/status/"  # the status pages' behaviour: files of the bucket under status/
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


def status_key(path: str) -> str | None:
    """The S3 key a /status/ path serves, as the template's StatusPageRouting function maps it:
    /status/{slug} and /status/{slug}/ are the page's index.html; None: not a status page path."""
    if not path.startswith(STATUS_PREFIX):
        return None
    parts = path.split("/")
    if len(parts) == 3 or (len(parts) == 4 and parts[3] == ""):
        return f"status/{parts[2]}/index.html"
    return path.lstrip("/")


def cache_control(dist: Path, file: Path) -> str:
    # Hashed names never change content: cache them for a year. index.html must be fresh on each load.
    if file.parent == dist.resolve() / "assets":
        return "public, max-age=31536000, immutable"
    return "no-cache"


class WebServer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        dist: Path,
        api_host: str,
        api_port: int,
        status_bucket: str | None = None,
        aws_endpoint: str | None = None,
    ) -> None:
        server = self
        self.dist = dist
        self.api = (api_host, api_port)
        self.status_bucket = status_bucket
        self._s3: Any = None
        if status_bucket is not None:
            import boto3

            self._s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")

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
        elif request.command in ("GET", "HEAD") and status_key(path) is not None:
            self.serve_status(request, str(status_key(path)))
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

    def serve_status(self, request: BaseHTTPRequestHandler, key: str) -> None:
        if self._s3 is None:
            self.answer(request, HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        try:
            found = self._s3.get_object(Bucket=self.status_bucket, Key=key)
        except ClientError as exc:  # NoSuchKey: no such page (CloudFront answers S3's 403 or 404)
            self.answer(request, HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            log.debug("no status file %s: %s", key, exc)
            return
        except BotoCoreError:
            self.answer(request, HTTPStatus.BAD_GATEWAY, b"storage unreachable", "text/plain")
            return
        body = found["Body"].read()
        kind = found.get("ContentType") or "application/octet-stream"
        self.answer(request, HTTPStatus.OK, body, kind, found.get("CacheControl") or "no-cache")

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
