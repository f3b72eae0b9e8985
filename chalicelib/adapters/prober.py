"""The HTTP prober: one check of one URL, and a batch of checks at once.

Every check opens its own connection and closes it afterwards: a pooled
connection would hide DNS, TCP and TLS failures. Redirects are followed here,
so that every hop is checked against the URL policy, and every socket is
checked on the address it resolved to *and* the address it actually reached
(DNS rebinding; see safe_connections). A failure is a result, never an
exception: an exception would make SQS retry the whole batch.

The checks of a batch run on one asyncio event loop (a coroutine per check, not
a thread per check): less than half the CPU of a thread running requests, and
none of a thread's start-up and stack, so that hundreds of checks share one GIL
and one 256 MB Lambda without delaying each other. A request is
prepared by requests (URL quoting, IDNA, header validation, exactly as before);
the response is parsed by h11; the body is decoded by urllib3's decoders.
"""

from __future__ import annotations

import asyncio
import codecs
import http.client
import itertools
import logging
import math
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from chalicelib.adapters.safe_connections import (
    Certificate,
    DeadlineExceeded,
    blocking_pool,
    describe_failure,
    open_checked_socket,
    read_certificate,
    response_charset,
    shorten,
    url_refusal,
)
from chalicelib.domain.assertions import MAX_BODY_BYTES, Assertion, Response, first_failure
from chalicelib.domain.status_codes import StatusRanges

if TYPE_CHECKING:
    import h11

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = "Vigil-Uptime/1.0 (+https://github.com/vigil)"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODY_CAP_BYTES = MAX_BODY_BYTES  # 1 MiB, for keyword and JSON checks

DEFAULT_EXPECTED_STATUS = StatusRanges.parse("200-399")

_BUFFERED_BYTES = 256 * 1024
_MAX_HEADER_BYTES = 256 * 1024  # http.client allows 100 lines of 64 KiB; h11's default is 16 KiB
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")
_BODY_HEADERS = ("Content-Type", "Content-Length", "Transfer-Encoding")


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
    verify_tls: bool = True  # False: certificate errors do not fail the check
    assertions: tuple[Assertion, ...] = ()  # all must hold (domain/assertions)
    read_certificate: bool = False  # also read the served certificate (https), by a handshake of its own


@dataclass(frozen=True)
class ProbeResult:
    up: bool
    status_code: int | None
    response_time_ms: int  # wall time of the whole check
    error: str | None  # a short reason when down, at most MAX_ERROR_CHARS
    final_url: str | None = None  # the URL the check ended on (the last hop, or the one it refused)
    certificate: Certificate | None = None  # when asked for and read


def probe(request: ProbeRequest) -> ProbeResult:
    """Check one URL. Never raises, and returns within the request's timeout (plus a fraction of a second)."""
    return probe_all([request])[0]


def probe_all(requests: Sequence[ProbeRequest], *, max_workers: int = 512) -> list[ProbeResult]:
    """Check every URL at once; results in the order of the requests. Takes about as long as the slowest.

    Up to ``max_workers`` checks are in flight at a time, each bounded by its own deadline, so nothing,
    not even a hung DNS lookup, holds a batch past its slowest timeout.
    """
    if not requests:
        return []
    return run_async(lambda: probe_each(requests, max_in_flight=max_workers))


async def probe_each(requests: Sequence[ProbeRequest], *, max_in_flight: int = 512) -> list[ProbeResult]:
    """probe_all in the running event loop."""
    limit = asyncio.Semaphore(max(1, max_in_flight))

    async def one(request: ProbeRequest) -> ProbeResult:
        async with limit:
            return await probe_async(request)

    return list(await asyncio.gather(*(one(request) for request in requests)))


async def probe_async(request: ProbeRequest) -> ProbeResult:
    """One check in the running event loop. Never raises (but for its own cancellation)."""
    started = time.perf_counter()
    certificate = None
    outcome: _Outcome
    try:
        if not (math.isfinite(request.timeout_seconds) and request.timeout_seconds > 0):
            outcome = (False, None, f"invalid timeout {request.timeout_seconds!r}", None)
        else:
            check = _Check(request, deadline=started + request.timeout_seconds)
            outcome = await check.run()
            certificate = check.certificate
        up, status_code, error, final_url = outcome
    except Exception as exc:  # a bug here must still be a result, not a retried batch
        log.exception("the prober failed on %s", request.url)
        up, status_code, error, final_url = False, None, f"internal: {type(exc).__name__}", None
    return ProbeResult(
        up=up,
        status_code=status_code,
        response_time_ms=max(0, round((time.perf_counter() - started) * 1000)),
        error=None if error is None else shorten(error),
        final_url=final_url,
        certificate=certificate,
    )


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to its end on a new event loop, from synchronous code (on a thread of its own
    when this thread already runs a loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_awaited(make))
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(_awaited(make)))
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="probe-loop")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


async def _awaited(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


# ---- one check -----------------------------------------------------------------------------------

_Outcome = tuple[bool, int | None, str | None, str | None]  # up, status code, error, final URL


class _Check:
    def __init__(self, request: ProbeRequest, *, deadline: float) -> None:
        self.request = request
        self.deadline = deadline
        self.url = request.url.strip()
        self.status_code: int | None = None
        self.certificate: Certificate | None = None
        self._response: _Response | None = None
        self._started = time.perf_counter()

    async def run(self) -> _Outcome:
        try:
            loop = asyncio.get_running_loop()
            async with asyncio.timeout_at(loop.time() + (self.deadline - time.perf_counter())):
                outcome = await self._follow()
        except Exception as exc:  # TimeoutError at the deadline: "timeout after ..."
            error = describe_failure(exc, url=self.request.url, timeout_seconds=self.request.timeout_seconds)
            outcome = (False, self.status_code, error, self.url)
        finally:
            if self._response is not None:
                self._response.close()
        if self.request.read_certificate:
            self.certificate = await self._read_certificate()
        return outcome

    async def _read_certificate(self) -> Certificate | None:
        """The certificate of the URL's own host (not a redirect's), within what is left of the
        deadline; None when it cannot be read (the checker tries again at its next check). A
        blocking handshake on a thread: at most once a day per service."""
        url = self.request.url.strip()
        if urlsplit(url).scheme.lower() != "https":
            return None
        try:
            remaining = self._remaining()
            read = asyncio.get_running_loop().run_in_executor(
                blocking_pool(),
                lambda: read_certificate(
                    url, allow_private=self.request.allow_private, timeout_seconds=remaining
                ),
            )
            return await asyncio.wait_for(read, remaining)
        except Exception as exc:  # a failed read is no failed check: the check said what it saw
            log.info("could not read the certificate of %s: %s", url, type(exc).__name__)
            return None

    async def _follow(self) -> _Outcome:
        request = self.request
        method = request.method.strip().upper()
        if method not in METHODS:
            return False, None, f"unsupported method {request.method!r}", None
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        )
        headers.update(request.headers)
        for hop in itertools.count():
            refusal = url_refusal(
                self.url, allow_private=request.allow_private, field="redirect" if hop else "url"
            )
            if refusal is not None:
                return False, self.status_code, refusal, self.url
            response = await self._send(method, headers)
            location = _redirect_location(response) if request.max_redirects > 0 else None
            if location is None:
                return await self._judge(response)
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

    async def _send(self, method: str, headers: Mapping[str, str]) -> _Response:
        # Prepared as requests prepares it (URL quoting, IDNA, header checks), sent on a connection of
        # its own. No Session: no cookie jar carried between hops, no proxies or netrc from the environment.
        prepared = requests.Request(method, self.url, headers=dict(headers)).prepare()
        self._response = response = await _Response.open(
            prepared, verify_tls=self.request.verify_tls, allow_private=self.request.allow_private
        )
        self.status_code = response.status_code
        return response

    async def _judge(self, response: _Response) -> _Outcome:
        request = self.request
        status = response.status_code
        if status not in request.expected_status:
            return False, status, f"status {status} not in {request.expected_status}", self.url
        if request.assertions:
            return await self._judge_assertions(response)
        if request.keyword is not None and not await self._body_contains(response, request.keyword):
            return False, status, _keyword_missing(request.keyword), self.url
        return True, status, None, self.url

    async def _judge_assertions(self, response: _Response) -> _Outcome:
        """The keyword, then each assertion in order; the body is read once, up to BODY_CAP_BYTES,
        and only when the keyword or a json assertion needs it."""
        request, status = self.request, response.status_code
        elapsed_ms = max(0, round((time.perf_counter() - self._started) * 1000))  # until the headers
        body, truncated = b"", False
        if request.keyword is not None or any(a.source == "json" for a in request.assertions):
            body, truncated = await self._read_body(response)
        if request.keyword is not None:
            text = body.decode(response_charset(response), errors="replace")  # type: ignore[arg-type]
            if request.keyword not in text:
                return False, status, _keyword_missing(request.keyword), self.url
        headers = {name: value for name, value in response.headers.items()}
        failure = first_failure(request.assertions, Response(body, headers, elapsed_ms, truncated))
        return failure is None, status, failure, self.url

    async def _read_body(self, response: _Response) -> tuple[bytes, bool]:
        """Up to BODY_CAP_BYTES of the (decompressed) body, and whether it went on past them."""
        parts: list[bytes] = []
        read = 0
        async for chunk in response.iter_content():
            if read + len(chunk) > BODY_CAP_BYTES:
                parts.append(chunk[: BODY_CAP_BYTES - read])
                return b"".join(parts), True
            parts.append(chunk)
            read += len(chunk)
        return b"".join(parts), False

    async def _body_contains(self, response: _Response, keyword: str) -> bool:
        """Read and decode the body until the keyword shows up, the body ends, or BODY_CAP_BYTES are read."""
        decoder = codecs.getincrementaldecoder(response_charset(response))(errors="replace")  # type: ignore[arg-type]
        text = ""
        read = 0
        async for chunk in response.iter_content():
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
            raise DeadlineExceeded
        return remaining


# ---- one request on one connection ---------------------------------------------------------------


class _Response:
    """The status and headers of one response on a connection of its own, and its body on demand."""

    def __init__(
        self,
        status_code: int,
        headers: CaseInsensitiveDict[str],
        connection: h11.Connection,
        wire: _Wire,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self._connection = connection
        self._wire = wire

    @classmethod
    async def open(
        cls, prepared: requests.PreparedRequest, *, verify_tls: bool, allow_private: bool
    ) -> _Response:
        import h11  # the checker's own dependency: not imported by the API's cold start

        parts = urlsplit(prepared.url or "")
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in ("http", "https") or not host:
            raise requests.exceptions.InvalidURL(prepared.url)
        default_port = 443 if scheme == "https" else 80
        port = parts.port or default_port
        sock = await open_checked_socket(host, port, allow_private=allow_private)
        try:
            context = _tls_context(verify_tls) if scheme == "https" else None
            wire = _Wire()
            await asyncio.get_running_loop().create_connection(
                lambda: wire, sock=sock, ssl=context, server_hostname=host if context is not None else None
            )
        except BaseException:
            sock.close()
            raise
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            method = prepared.method or "GET"
            connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEADER_BYTES)
            # h11 is told the method (a HEAD response has no body); the request itself is written as
            # http.client writes it, so header values are sent exactly as before.
            connection.send(h11.Request(method=method, target="/", headers=[("Host", "probe")]))
            connection.send(h11.EndOfMessage())
            wire.write(_request_bytes(method, target, _host_header(host, port, default_port), prepared))
            status_code, headers = await _read_head(connection, wire)
        except BaseException:
            wire.close()
            raise
        return cls(status_code, headers, connection, wire)

    async def iter_content(self) -> AsyncIterator[bytes]:
        """The decoded body, chunk by chunk; cut short or undecodable: http.client's and urllib3's errors."""
        import h11
        from urllib3.exceptions import DecodeError
        from urllib3.response import HTTPResponse, _get_decoder

        encoding = self.headers.get("content-encoding", "").lower()  # as urllib3 picks its decoder
        known = HTTPResponse.CONTENT_DECODERS
        decoder = None
        if encoding in known or ("," in encoding and any(e.strip() in known for e in encoding.split(","))):
            decoder = _get_decoder(encoding)

        def decoded(data: bytes, *, flush: bool = False) -> bytes:
            if decoder is None:
                return data
            try:
                data = decoder.decompress(data)
                return data + decoder.flush() if flush else data
            except HTTPResponse.DECODER_ERROR_CLASSES as exc:
                raise DecodeError(f"content-encoding {encoding} could not be decoded", exc) from exc

        while True:
            try:
                event = self._connection.next_event()
            except h11.RemoteProtocolError as exc:
                raise http.client.IncompleteRead(b"") from exc
            if event is h11.NEED_DATA:
                self._connection.receive_data(await self._wire.read())
            elif isinstance(event, h11.Data):
                if chunk := decoded(bytes(event.data)):
                    yield chunk
            else:  # EndOfMessage (or the connection's end)
                if rest := decoded(b"", flush=True):
                    yield rest
                return

    def close(self) -> None:
        self._wire.close()


class _Wire(asyncio.Protocol):
    """One connection's bytes as they arrive (an asyncio protocol: lighter than a stream reader and
    writer), reading paused while more than _BUFFERED_BYTES wait to be read."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._ended = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _BUFFERED_BYTES and self._transport is not None and not self._paused:
            self._transport.pause_reading()
            self._paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._ended = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._error = exc
        self._wake()

    def pause_writing(self) -> None:
        pass  # a request is a few hundred bytes

    def resume_writing(self) -> None:
        pass

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    async def read(self) -> bytes:
        """The next bytes received; b"" at the end; the connection's error when it broke."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._ended:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = self._chunks.popleft()
        self._buffered -= len(data)
        if self._paused and self._buffered <= _BUFFERED_BYTES and self._transport is not None:
            self._transport.resume_reading()
            self._paused = False
        return data

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()  # no goodbye: the connection was never to be reused


async def _read_head(connection: h11.Connection, wire: _Wire) -> tuple[int, CaseInsensitiveDict[str]]:
    import h11

    received = 0
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as exc:
            raise _bad_head(received) from exc
        if event is h11.NEED_DATA:
            data = await wire.read()
            received += len(data)
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
            first_names: dict[str, str] = {}
            for raw_name, raw_value in event.headers.raw_items():  # merged as urllib3 and requests do
                name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                first = first_names.get(name.lower())
                if first is None:
                    first_names[name.lower()] = name
                    headers[name] = value
                else:
                    headers[first] = headers[first] + ", " + value
            return event.status_code, headers
        elif not isinstance(event, h11.InformationalResponse):  # a 1xx: the answer follows
            raise _bad_head(received)


def _bad_head(received: int) -> http.client.HTTPException:
    """As http.client says it: nothing at all, or something that is no HTTP response."""
    if received == 0:
        return http.client.RemoteDisconnected("Remote end closed connection without response")
    return http.client.BadStatusLine("invalid http response")


def _request_bytes(method: str, target: str, host: str, prepared: requests.PreparedRequest) -> bytes:
    names = {name.lower() for name in prepared.headers}
    lines = [f"{method} {target} HTTP/1.1".encode("ascii")]
    if "host" not in names:
        lines.append(b"Host: " + host.encode("ascii"))  # IDNA-encoded by requests already
    for name, value in prepared.headers.items():
        encoded = value.encode("latin-1") if isinstance(value, str) else value
        lines.append(name.encode("latin-1") + b": " + encoded)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _host_header(host: str, port: int, default_port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default_port else f"{shown}:{port}"


_tls_contexts: dict[tuple[bool, str], ssl.SSLContext] = {}


def _tls_context(verify: bool) -> ssl.SSLContext:
    """urllib3's context, with requests' CA bundle when verifying; built once per process (loading
    the bundle costs milliseconds, which urllib3 paid on every connection)."""
    from requests import adapters
    from urllib3.util.ssl_ import ALPN_PROTOCOLS, create_urllib3_context

    bundle = adapters.DEFAULT_CA_BUNDLE_PATH if verify else ""
    context = _tls_contexts.get((verify, bundle))
    if context is None:
        context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
        if verify:
            context.check_hostname = True
            context.load_verify_locations(cafile=bundle)
        else:
            context.check_hostname = False
        context.set_alpn_protocols(ALPN_PROTOCOLS)
        _tls_contexts[(verify, bundle)] = context
    return context


def _keyword_missing(keyword: str) -> str:
    shown = keyword if len(keyword) <= 60 else keyword[:57] + "..."
    return f"keyword {shown!r} not found"


def _redirect_location(response: _Response) -> str | None:
    if response.status_code not in _REDIRECTS or "location" not in response.headers:
        return None
    location = response.headers["location"]
    try:  # headers are decoded as latin-1; servers mostly send UTF-8
        return location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return location


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, host and port: credentials stay with their origin. ValueError for a malformed URL."""
    parts = urlsplit(url)
    port = parts.port
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), port or (443 if scheme == "https" else 80)
