"""The webhook sender: one POST of a JSON body (signed webhooks, Slack), with the probes' connection
rules (safe_connections): a fresh connection, internal addresses refused on the address reached."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from requests.structures import CaseInsensitiveDict
from urllib3 import Timeout as ConnectionTimeout

from chalicelib.adapters.safe_connections import (
    DEADLINE_GRACE_SECONDS,
    BlockedAddress,
    DeadlineExceeded,
    SafeAdapter,
    causes,
    describe_failure,
    response_charset,
    shorten,
    timeout_error,
    url_refusal,
)

WEBHOOK_USER_AGENT = "Vigil-Webhooks/1.0 (+https://github.com/vigil)"
_POST_BODY_EXCERPT_BYTES = 200


@dataclass(frozen=True)
class PostResult:
    status_code: int | None  # None: no HTTP answer (refused, DNS, connect, TLS, timeout)
    error: str | None  # None for a 2xx; else a short reason, at most MAX_ERROR_CHARS
    refused: bool = False  # the URL policy refused the target: nothing was sent, retrying will not help

    @property
    def ok(self) -> bool:
        return self.error is None


def post_json(
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = 10.0,
    allow_private: bool = False,
) -> PostResult:
    """POST a JSON body once, with the probes' connection rules; never raises.

    Same guarantees as a check: a fresh connection, private/loopback/link-local/metadata addresses
    refused on the address actually connected to (unless ``allow_private``), and one deadline for
    DNS, connect, TLS and the response headers. Redirects are not followed (a webhook's body is not
    re-sent to wherever a 3xx points); any status outside 2xx is an error naming the status and the
    start of the response body ("status 400: invalid_payload").
    """
    if not (math.isfinite(timeout) and timeout > 0):
        return PostResult(None, f"invalid timeout {timeout!r}")
    refusal = url_refusal(url, allow_private=allow_private, field="url")
    if refusal is not None:
        return PostResult(None, shorten(refusal), refused=True)
    post = _Post(url, body, headers or {}, timeout=timeout, allow_private=allow_private)
    worker = threading.Thread(target=post.run, name="webhook-post", daemon=True)
    worker.start()
    worker.join(timeout=timeout + DEADLINE_GRACE_SECONDS)
    if worker.is_alive() or post.result is None:
        return PostResult(None, timeout_error(timeout))  # the worker ends on its own socket timeouts
    return post.result


class _Post:
    def __init__(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float, allow_private: bool
    ) -> None:
        self.url = url
        self.body = body
        self.headers = headers
        self.timeout = timeout
        self.allow_private = allow_private
        self.deadline = time.perf_counter() + timeout
        self.result: PostResult | None = None

    def run(self) -> None:
        try:
            self.result = self._send()
        except Exception as exc:
            refused = any(isinstance(e, BlockedAddress) for e in causes(exc))
            error = describe_failure(exc, url=self.url, timeout_seconds=self.timeout)
            self.result = PostResult(None, shorten(error), refused=refused)

    def _send(self) -> PostResult:
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {"User-Agent": WEBHOOK_USER_AGENT, "Accept": "*/*", "Content-Type": "application/json"}
        )
        headers.update(self.headers)
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise DeadlineExceeded
        prepared = requests.Request("POST", self.url.strip(), headers=dict(headers), data=self.body)
        with SafeAdapter(allow_private=self.allow_private) as adapter:
            response = adapter.send(
                prepared.prepare(),
                stream=True,
                timeout=ConnectionTimeout(total=remaining),  # type: ignore[arg-type]
                verify=True,
            )
            try:
                status = response.status_code
                if 200 <= status < 300:
                    return PostResult(status, None)
                excerpt = _body_excerpt(response)
                return PostResult(status, shorten(f"status {status}" + (f": {excerpt}" if excerpt else "")))
            finally:
                response.close()


def _body_excerpt(response: requests.Response) -> str:
    """The start of an error answer, on one line (Slack says why in it: "invalid_payload")."""
    try:
        raw = response.raw.read(_POST_BODY_EXCERPT_BYTES, decode_content=True) or b""
    except Exception:  # an unreadable error body is not worth more than its status
        return ""
    text = raw.decode(response_charset(response), errors="replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())
