"""Structured JSON logs (Powertools Logger) with the request id on every line.

Bodies, headers and query strings are never logged: they carry passwords,
tokens and codes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from chalice.app import Request, Response

from chalicelib.settings import settings

SERVICE = "vigil"

logger = Logger(service=SERVICE, level=settings.log_level)


def log_requests(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: one line per request, and the request id on every line logged meanwhile."""
    context: dict[str, Any] = request.context or {}
    request_id = context.get("requestId") or str(uuid.uuid4())  # chalice local sends none
    logger.thread_safe_append_keys(request_id=request_id, method=request.method, path=request.path)
    started = time.perf_counter()
    try:
        response = get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.info("request", extra={"status": response.status_code, "duration_ms": duration_ms})
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        logger.thread_safe_remove_keys(["request_id", "method", "path"])
