"""Connections that refuse internal addresses, and the short reason a request failed.

Shared by the prober (checks of services) and the webhook sender (webhooks and Slack): every socket
is checked on the address it resolved to *and* the address it actually reached (DNS rebinding), so
no packet goes to a private, loopback, link-local or metadata address unless the deployment allows
it. A failure is described in a few words a person can act on ("connection refused").
"""

from __future__ import annotations

import codecs
import errno
import http.client
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3 import exceptions as urllib3_errors
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.connection import allowed_gai_family

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.targets import (
    IPAddress,
    check_url,
    is_forbidden_address,
    is_internal_host,
    parse_address,
)

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 200
# Socket timeouts end almost every slow request on time; this only covers what they cannot
# (a DNS lookup that hangs, a server dripping bytes so that no single read ever times out).
DEADLINE_GRACE_SECONDS = 0.25
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


class DeadlineExceeded(Exception):
    pass


class BlockedAddress(Exception):
    def __init__(self, address: IPAddress) -> None:
        super().__init__(f"blocked address {address}")
        self.address = address


def url_refusal(url: str, *, allow_private: bool, field: str) -> str | None:
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


def response_charset(response: requests.Response) -> str:
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
        refuse_forbidden_peer(sock, allow_private=allow_private)
        return sock
    if last_error is None:
        assert blocked is not None  # getaddrinfo answers at least one address or raises
        raise BlockedAddress(blocked)
    if isinstance(last_error, TimeoutError):
        raise urllib3_errors.ConnectTimeoutError(conn, f"connect to {conn.host} timed out") from last_error
    raise urllib3_errors.NewConnectionError(conn, f"failed to connect: {last_error}") from last_error


def refuse_forbidden_peer(sock: socket.socket, *, allow_private: bool) -> None:
    """The guarantee itself: the address this socket is connected to, whatever DNS said."""
    if allow_private:
        return
    peer = ipaddress.ip_address(sock.getpeername()[0])
    if is_forbidden_address(peer):
        sock.close()
        raise BlockedAddress(peer)


async def open_checked_socket(host: str, port: int, *, allow_private: bool) -> socket.socket:
    """The asynchronous ``_open_socket`` (the prober's): resolve on a thread of the resolver pool, skip
    forbidden addresses (no packet is ever sent to them), connect without blocking, check the peer
    reached. Raises socket.gaierror, BlockedAddress or the last connect's OSError."""
    import asyncio  # only the prober opens sockets this way: not part of the API's cold start

    loop = asyncio.get_running_loop()
    host = host.strip("[]")
    if parse_address(host) is not None:  # a literal: nothing to look up, no thread
        answers = socket.getaddrinfo(
            host, port, allowed_gai_family(), socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        )
    else:  # socket.getaddrinfo is looked up at each call, so a test can stand in for DNS
        answers = await loop.run_in_executor(
            blocking_pool(), socket.getaddrinfo, host, port, allowed_gai_family(), socket.SOCK_STREAM
        )
    blocked: IPAddress | None = None
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0])
        if not allow_private and is_forbidden_address(address):
            blocked = blocked or address
            continue
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as urllib3 does
            await loop.sock_connect(sock, sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        except BaseException:  # cancelled by the check's deadline
            sock.close()
            raise
        refuse_forbidden_peer(sock, allow_private=allow_private)
        return sock
    if last_error is None:
        assert blocked is not None  # getaddrinfo answers at least one address or raises
        raise BlockedAddress(blocked)
    raise last_error


_RESOLVER_THREADS = 32
_resolver: Any = None


def blocking_pool() -> Any:
    """Threads for the prober's blocking calls (DNS lookups, the daily certificate read), shared by
    every batch of the process. Not an event loop's default executor, which the loop waits for when
    it ends: a lookup that hangs past its check's deadline holds no batch."""
    global _resolver
    if _resolver is None:
        from concurrent.futures import ThreadPoolExecutor

        _resolver = ThreadPoolExecutor(max_workers=_RESOLVER_THREADS, thread_name_prefix="probe-dns")
    return _resolver


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


class SafeAdapter(HTTPAdapter):
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

    def __enter__(self) -> SafeAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---- the served certificate ----------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    not_after: int  # epoch seconds
    issuer: str  # RFC 4514, e.g. "CN=R3,O=Let's Encrypt,C=US"
    subject: str


def read_certificate(url: str, *, allow_private: bool, timeout_seconds: float) -> Certificate:
    """The certificate an https URL's server presents, by a handshake of its own that verifies
    nothing (an expired or untrusted certificate is read all the same). The socket is opened and
    checked exactly as a probe's is. Raises OSError, ssl.SSLError, BlockedAddress or ValueError."""
    from cryptography import x509  # only on the daily read: not part of the checker's cold start

    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    connection_class = _LocalHTTPSConnection if allow_private else _CheckedHTTPSConnection
    conn = connection_class(host, parts.port or 443, timeout=timeout_seconds)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sni = None if parse_address(host) is not None else host
    with conn._new_conn() as sock, context.wrap_socket(sock, server_hostname=sni) as tls:
        der = tls.getpeercert(binary_form=True)  # with CERT_NONE, getpeercert() alone is {}
    if not der:
        raise ValueError("no certificate")
    certificate = x509.load_der_x509_certificate(der)
    return Certificate(
        not_after=int(certificate.not_valid_after_utc.timestamp()),
        issuer=certificate.issuer.rfc4514_string()[:200],
        subject=certificate.subject.rfc4514_string()[:200],
    )


# ---- errors as short reasons ---------------------------------------------------------------------


def describe_failure(exc: BaseException, *, url: str, timeout_seconds: float) -> str:
    """The short reason a request failed, from the exception and everything it wraps."""
    chain = list(causes(exc))

    def find(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if blocked := find(BlockedAddress):
        return str(blocked)
    if any(_is_timeout(e) for e in chain):
        return timeout_error(timeout_seconds)
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
    log.warning("unexpected probe failure on %s", url, exc_info=exc)
    return f"internal: {type(exc).__name__}"


_SOCKET_ERRNOS = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EADDRNOTAVAIL: "address not available",
}


def causes(exc: BaseException) -> Iterator[BaseException]:
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
        exc, (DeadlineExceeded, TimeoutError, requests.exceptions.Timeout, urllib3_errors.TimeoutError)
    )


def _dns_error(exc: socket.gaierror) -> str:
    if exc.errno == socket.EAI_NONAME or exc.errno == getattr(socket, "EAI_NODATA", None):
        return "dns: no such host"
    if exc.errno == socket.EAI_AGAIN:
        return "dns: temporary failure"
    return f"dns: {(exc.strerror or 'lookup failed').lower()}"


def timeout_error(timeout_seconds: float) -> str:
    return f"timeout after {timeout_seconds:g}s"


def shorten(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 3] + "..."
