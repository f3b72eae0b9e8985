"""The HTTP prober: one check of one URL, and a batch of checks at once.

Every check opens its own connection and closes it afterwards: a pooled
connection would hide DNS, TCP and TLS failures. Redirects are followed here,
not by requests, so that every hop is checked against the URL policy, and
every socket is checked on the address it resolved to *and* the address it
actually reached (DNS rebinding). A failure is a result, never an exception:
an exception would make SQS retry the whole batch.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import http.client
import ipaddress
import itertools
import logging
import math
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3 import Timeout as ConnectionTimeout
from urllib3 import exceptions as urllib3_errors
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.connection import allowed_gai_family

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.status_codes import StatusRanges
from chalicelib.domain.targets import (
    IPAddress,
    check_url,
    is_forbidden_address,
    is_internal_host,
    parse_address,
)

log = logging.getLogger(__name__)

USER_AGENT = "Vigil-Uptime/1.0 (+https://github.com/vigil)"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODY_CAP_BYTES = 1 << 20
MAX_ERROR_CHARS = 200

DEFAULT_EXPECTED_STATUS = StatusRanges.parse("200-399")

_CHUNK_BYTES = 16 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Socket timeouts end almost every slow check on time; this only covers what they cannot
# (a DNS lookup that hangs, a server dripping bytes so that no single read ever times out).
_DEADLINE_GRACE_SECONDS = 0.25
_CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")
_BODY_HEADERS = ("Content-Type", "Content-Length", "Transfer-Encoding")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class ProbeRequest:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 10.0  # the whole check: DNS, connect, TLS, every redirect, the body read
    expected_status: StatusRanges = DEFAULT_EXPECTED_STATUS
    keyword: str | None = None  # when set, the body (decoded, up to BODY_CAP_BYTES) must contain it
    allow_private: bool = False  # True only in the local stack (VIGIL_ALLOW_PRIVATE_TARGETS)
    max_redirects: int = 5  # 0: do not follow; a 3xx is then the final answer


@dataclass(frozen=True)
class ProbeResult:
    up: bool
    status_code: int | None
    response_time_ms: int  # wall time of the whole check
    error: str | None  # a short reason when down, at most MAX_ERROR_CHARS
    final_url: str | None = None  # the URL the check ended on (the last hop, or the one it refused)


def probe(request: ProbeRequest) -> ProbeResult:
    """Check one URL. Never raises, and returns within the request's timeout (plus a fraction of a second)."""
    return probe_all([request])[0]


def probe_all(requests: Sequence[ProbeRequest], *, max_workers: int = 256) -> list[ProbeResult]:
    """Check every URL at once; results in the order of the requests. Takes about as long as the slowest.

    Each check runs in a thread of its own (up to ``max_workers`` at a time) and is collected by its own
    deadline, so nothing, not even a hung DNS lookup, holds a batch past its slowest timeout.
    """
    results: list[ProbeResult] = []
    for first in range(0, len(requests), max(1, max_workers)):
        running = [_start(request) for request in requests[first : first + max(1, max_workers)]]
        results += [_collect(*started) for started in running]
    return results


_Running = tuple[ProbeRequest, "_Check | None", "threading.Thread | None", float, "_Outcome | None"]


def _start(request: ProbeRequest) -> _Running:
    started = time.perf_counter()
    if not (math.isfinite(request.timeout_seconds) and request.timeout_seconds > 0):
        invalid = f"invalid timeout {request.timeout_seconds!r}"
        return request, None, None, started, (False, None, invalid, None)
    check = _Check(request, deadline=started + request.timeout_seconds)
    worker = threading.Thread(target=check.run, name="probe-check", daemon=True)
    worker.start()
    return request, check, worker, started, None


def _collect(
    request: ProbeRequest,
    check: _Check | None,
    worker: threading.Thread | None,
    started: float,
    outcome: _Outcome | None,
) -> ProbeResult:
    try:
        if check is not None and worker is not None:
            worker.join(timeout=max(0.0, check.deadline - time.perf_counter()) + _DEADLINE_GRACE_SECONDS)
            if worker.is_alive():
                check.abandon()  # the worker ends on its own socket timeouts; nobody waits for it
                outcome = (False, check.status_code, _timeout_error(request), check.url)
            else:
                outcome = check.outcome
        assert outcome is not None
        up, status_code, error, final_url = outcome
    except Exception as exc:  # a bug here must still be a result, not a retried batch
        log.exception("the prober failed on %s", request.url)
        up, status_code, error, final_url = False, None, f"internal: {type(exc).__name__}", None
    return ProbeResult(
        up=up,
        status_code=status_code,
        response_time_ms=max(0, round((time.perf_counter() - started) * 1000)),
        error=None if error is None else _shorten(error),
        final_url=final_url,
    )


# ---- one check -----------------------------------------------------------------------------------

_Outcome = tuple[bool, int | None, str | None, str | None]  # up, status code, error, final URL


class _DeadlineExceeded(Exception):
    pass


class _BlockedAddress(Exception):
    def __init__(self, address: IPAddress) -> None:
        super().__init__(f"blocked address {address}")
        self.address = address


class _Check:
    def __init__(self, request: ProbeRequest, *, deadline: float) -> None:
        self.request = request
        self.deadline = deadline
        self.url = request.url.strip()
        self.status_code: int | None = None
        self.outcome: _Outcome | None = None
        self._response: requests.Response | None = None

    def run(self) -> None:
        try:
            self.outcome = self._follow()
        except Exception as exc:
            self.outcome = (False, self.status_code, _describe(exc, self.request), self.url)
        finally:
            if self._response is not None:
                self._response.close()

    def abandon(self) -> None:
        """Wake a worker blocked reading a body that comes too slowly (another thread may call this)."""
        response = self._response
        if response is not None:
            with contextlib.suppress(OSError, ValueError):  # already closed: nothing to wake
                response.raw.shutdown()

    def _follow(self) -> _Outcome:
        request = self.request
        method = request.method.strip().upper()
        if method not in METHODS:
            return False, None, f"unsupported method {request.method!r}", None
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        )
        headers.update(request.headers)
        with _ProbeAdapter(allow_private=request.allow_private) as adapter:
            for hop in itertools.count():
                refusal = _refusal(
                    self.url, allow_private=request.allow_private, field="redirect" if hop else "url"
                )
                if refusal is not None:
                    return False, self.status_code, refusal, self.url
                response = self._send(adapter, method, headers)
                location = _redirect_location(response) if request.max_redirects > 0 else None
                if location is None:
                    return self._judge(response)
                response.close()
                if hop >= request.max_redirects:
                    return False, self.status_code, f"too many redirects ({request.max_redirects})", self.url
                try:
                    next_url = urljoin(self.url, location)
                    cross_origin = _origin(next_url) != _origin(self.url)
                except ValueError:
                    return False, self.status_code, "invalid redirect: is not a valid URL", self.url
                if cross_origin:
                    for name in _CREDENTIAL_HEADERS:
                        headers.pop(name, None)
                if response.status_code in (301, 302, 303) and method != "HEAD":
                    method = "GET"  # what browsers do; 307 and 308 keep the method
                    for name in _BODY_HEADERS:
                        headers.pop(name, None)
                self.url = next_url
        raise AssertionError("unreachable")  # itertools.count() never ends

    def _send(self, adapter: HTTPAdapter, method: str, headers: Mapping[str, str]) -> requests.Response:
        remaining = self._remaining()
        # No Session: no cookie jar carried between hops, no proxies or netrc from the environment.
        prepared = requests.Request(method, self.url, headers=dict(headers)).prepare()
        # total=: connect and the wait for headers share one budget instead of getting one each.
        timeout = ConnectionTimeout(total=remaining)
        self._response = response = adapter.send(prepared, stream=True, timeout=timeout, verify=True)  # type: ignore[arg-type]
        self.status_code = response.status_code
        return response

    def _judge(self, response: requests.Response) -> _Outcome:
        request = self.request
        status = response.status_code
        if status not in request.expected_status:
            return False, status, f"status {status} not in {request.expected_status}", self.url
        if request.keyword is not None and not self._body_contains(response, request.keyword):
            keyword = request.keyword if len(request.keyword) <= 60 else request.keyword[:57] + "..."
            return False, status, f"keyword {keyword!r} not found", self.url
        return True, status, None, self.url

    def _body_contains(self, response: requests.Response, keyword: str) -> bool:
        """Read and decode the body until the keyword shows up, the body ends, or BODY_CAP_BYTES are read."""
        decoder = codecs.getincrementaldecoder(_charset(response))(errors="replace")
        text = ""
        read = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            self._remaining()
            chunk = chunk[: BODY_CAP_BYTES - read]
            read += len(chunk)
            searched_up_to = max(0, len(text) - len(keyword) + 1)
            text += decoder.decode(chunk, final=read >= BODY_CAP_BYTES)
            if keyword in text[searched_up_to:]:
                return True
            if read >= BODY_CAP_BYTES:
                return False
        return keyword in text + decoder.decode(b"", final=True)

    def _remaining(self) -> float:
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise _DeadlineExceeded
        return remaining


def _refusal(url: str, *, allow_private: bool, field: str) -> str | None:
    """Why this URL must not be fetched, or None. DNS answers are checked later, at connect time."""
    try:
        check_url(url, allow_private=True, field=field)
    except InvalidInput as exc:
        return f"invalid {exc}"
    host = urlsplit(url.strip()).hostname or ""
    if allow_private or not is_internal_host(host):
        return None
    address = parse_address(host)
    return f"blocked address {address}" if address is not None else f"blocked host {host}"


def _redirect_location(response: requests.Response) -> str | None:
    if response.status_code not in _REDIRECTS or "location" not in response.headers:
        return None
    location = response.headers["location"]
    try:  # http.client decodes headers as latin-1; servers mostly send UTF-8
        return location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return location


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, host and port: credentials stay with their origin. ValueError for a malformed URL."""
    parts = urlsplit(url)
    port = parts.port
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), port or (443 if scheme == "https" else 80)


def _charset(response: requests.Response) -> str:
    match = _CHARSET.search(response.headers.get("content-type", ""))
    if match:
        try:
            return codecs.lookup(match.group(1)).name
        except LookupError:
            pass
    return "utf-8"


# ---- connections that refuse internal addresses --------------------------------------------------


def _open_socket(conn: HTTPConnection, *, allow_private: bool) -> socket.socket:
    """Resolve, skip forbidden addresses (no packet is ever sent to them), connect, check the peer reached."""
    host = conn._dns_host.strip("[]")
    try:
        answers = socket.getaddrinfo(host, conn.port, allowed_gai_family(), socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise urllib3_errors.NameResolutionError(conn.host, conn, exc) from exc
    timeout = conn.timeout if isinstance(conn.timeout, int | float) else None
    blocked: IPAddress | None = None
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0])
        if not allow_private and is_forbidden_address(address):
            blocked = blocked or address
            continue
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        _refuse_forbidden_peer(sock, allow_private=allow_private)
        return sock
    if last_error is None:
        assert blocked is not None  # getaddrinfo answers at least one address or raises
        raise _BlockedAddress(blocked)
    if isinstance(last_error, TimeoutError):
        raise urllib3_errors.ConnectTimeoutError(conn, f"connect to {conn.host} timed out") from last_error
    raise urllib3_errors.NewConnectionError(conn, f"failed to connect: {last_error}") from last_error


def _refuse_forbidden_peer(sock: socket.socket, *, allow_private: bool) -> None:
    """The guarantee itself: the address this socket is connected to, whatever DNS said."""
    if allow_private:
        return
    peer = ipaddress.ip_address(sock.getpeername()[0])
    if is_forbidden_address(peer):
        sock.close()
        raise _BlockedAddress(peer)


class _CheckedHTTPConnection(HTTPConnection):
    allow_private: ClassVar[bool] = False

    def _new_conn(self) -> socket.socket:
        return _open_socket(self, allow_private=self.allow_private)


class _CheckedHTTPSConnection(HTTPSConnection):
    """TLS is set up on the socket afterwards as usual, verified against the hostname, not the address."""

    allow_private: ClassVar[bool] = False

    def _new_conn(self) -> socket.socket:
        return _open_socket(self, allow_private=self.allow_private)


class _LocalHTTPConnection(_CheckedHTTPConnection):
    allow_private = True


class _LocalHTTPSConnection(_CheckedHTTPSConnection):
    allow_private = True


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _LocalHTTPPool(HTTPConnectionPool):
    ConnectionCls = _LocalHTTPConnection


class _LocalHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _LocalHTTPSConnection


class _ProbeAdapter(HTTPAdapter):
    """One per check (closed after it), so no connection outlives the check that opened it."""

    def __init__(self, *, allow_private: bool) -> None:
        self._pool_classes = (
            {"http": _LocalHTTPPool, "https": _LocalHTTPSPool}
            if allow_private
            else {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}
        )
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def __enter__(self) -> _ProbeAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---- errors as short reasons ---------------------------------------------------------------------


def _describe(exc: BaseException, request: ProbeRequest) -> str:
    """The short reason a check failed, from the exception and everything it wraps."""
    chain = list(_causes(exc))

    def find(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if blocked := find(_BlockedAddress):
        return str(blocked)
    if any(_is_timeout(e) for e in chain):
        return _timeout_error(request)
    if isinstance(gai := find(socket.gaierror), socket.gaierror):
        return _dns_error(gai)
    if isinstance(cert := find(ssl.SSLCertVerificationError), ssl.SSLCertVerificationError):
        detail = (cert.verify_message or "").rstrip(".")
        return "tls: certificate verify failed" + (f" ({detail})" if detail else "")
    if isinstance(tls := find(ssl.SSLError), ssl.SSLError):
        return "tls: " + (tls.reason or "handshake failed").lower().replace("_", " ")
    if find(ConnectionRefusedError):
        return "connection refused"
    if find(http.client.RemoteDisconnected):  # before ConnectionResetError, its base class
        return "connection closed without a response"
    if find(ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        return "connection reset"
    if find(
        requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, urllib3_errors.LocationValueError
    ):
        return "invalid url"
    if find(requests.exceptions.InvalidHeader):
        return "invalid request header"
    if find(requests.exceptions.ChunkedEncodingError, http.client.IncompleteRead):
        return "response body cut short"
    if find(requests.exceptions.ContentDecodingError, urllib3_errors.DecodeError):
        return "response body could not be decoded"
    if find(http.client.HTTPException, urllib3_errors.ProtocolError):
        return "invalid http response"
    if isinstance(os_error := find(OSError), OSError) and os_error.errno in _SOCKET_ERRNOS:
        return _SOCKET_ERRNOS[os_error.errno]
    log.warning("unexpected probe failure on %s", request.url, exc_info=exc)
    return f"internal: {type(exc).__name__}"


_SOCKET_ERRNOS = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EADDRNOTAVAIL: "address not available",
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what it wraps: causes, contexts, urllib3's reasons, requests' arguments."""
    seen: set[int] = set()
    queue = [exc]
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
        queue.extend(e for e in wrapped if isinstance(e, BaseException))


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, urllib3_errors.NewConnectionError):
        return False  # urllib3 2 still makes it a ConnectTimeoutError subclass
    return isinstance(
        exc, (_DeadlineExceeded, TimeoutError, requests.exceptions.Timeout, urllib3_errors.TimeoutError)
    )


def _dns_error(exc: socket.gaierror) -> str:
    if exc.errno == socket.EAI_NONAME or exc.errno == getattr(socket, "EAI_NODATA", None):
        return "dns: no such host"
    if exc.errno == socket.EAI_AGAIN:
        return "dns: temporary failure"
    return f"dns: {(exc.strerror or 'lookup failed').lower()}"


def _timeout_error(request: ProbeRequest) -> str:
    return f"timeout after {request.timeout_seconds:g}s"


def _shorten(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 3] + "..."


# ---- one POST for webhooks and Slack ------------------------------------------------------------

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
    request = ProbeRequest(url=url, method="POST", timeout_seconds=timeout, allow_private=allow_private)
    if not (math.isfinite(timeout) and timeout > 0):
        return PostResult(None, f"invalid timeout {timeout!r}")
    refusal = _refusal(url, allow_private=allow_private, field="url")
    if refusal is not None:
        return PostResult(None, _shorten(refusal), refused=True)
    post = _Post(request, body, headers or {}, deadline=time.perf_counter() + timeout)
    worker = threading.Thread(target=post.run, name="webhook-post", daemon=True)
    worker.start()
    worker.join(timeout=timeout + _DEADLINE_GRACE_SECONDS)
    if worker.is_alive() or post.result is None:
        return PostResult(None, _timeout_error(request))  # the worker ends on its own socket timeouts
    return post.result


class _Post:
    def __init__(
        self, request: ProbeRequest, body: bytes, headers: Mapping[str, str], *, deadline: float
    ) -> None:
        self.request = request
        self.body = body
        self.headers = headers
        self.deadline = deadline
        self.result: PostResult | None = None

    def run(self) -> None:
        try:
            self.result = self._send()
        except Exception as exc:
            refused = any(isinstance(e, _BlockedAddress) for e in _causes(exc))
            self.result = PostResult(None, _shorten(_describe(exc, self.request)), refused=refused)

    def _send(self) -> PostResult:
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {"User-Agent": WEBHOOK_USER_AGENT, "Accept": "*/*", "Content-Type": "application/json"}
        )
        headers.update(self.headers)
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise _DeadlineExceeded
        prepared = requests.Request("POST", self.request.url.strip(), headers=dict(headers), data=self.body)
        with _ProbeAdapter(allow_private=self.request.allow_private) as adapter:
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
                return PostResult(status, _shorten(f"status {status}" + (f": {excerpt}" if excerpt else "")))
            finally:
                response.close()


def _body_excerpt(response: requests.Response) -> str:
    """The start of an error answer, on one line (Slack says why in it: "invalid_payload")."""
    try:
        raw = response.raw.read(_POST_BODY_EXCERPT_BYTES, decode_content=True) or b""
    except Exception:  # an unreadable error body is not worth more than its status
        return ""
    text = raw.decode(_charset(response), errors="replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())
