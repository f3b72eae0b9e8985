"""The HTTP prober: one check of one URL, and a batch of checks at once.

Every check opens its own connection and closes it afterwards: a pooled
connection would hide DNS, TCP and TLS failures. Redirects are followed here,
not by requests, so that every hop is checked against the URL policy, and
every socket is checked on the address it resolved to *and* the address it
actually reached (DNS rebinding; see safe_connections). A failure is a result,
never an exception: an exception would make SQS retry the whole batch.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import logging
import math
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import Timeout as ConnectionTimeout
from urllib3.exceptions import InsecureRequestWarning

from chalicelib.adapters.safe_connections import (
    DEADLINE_GRACE_SECONDS,
    Certificate,
    DeadlineExceeded,
    SafeAdapter,
    describe_failure,
    read_certificate,
    response_charset,
    shorten,
    timeout_error,
    url_refusal,
)
from chalicelib.domain.assertions import MAX_BODY_BYTES, Assertion, Response, first_failure
from chalicelib.domain.status_codes import StatusRanges

log = logging.getLogger(__name__)
# verify_tls=false is the service owner's choice, not something to warn about on every check.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)

USER_AGENT = "Vigil-Uptime/1.0 (+https://github.com/vigil)"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODY_CAP_BYTES = MAX_BODY_BYTES  # 1 MiB, for keyword and JSON checks

DEFAULT_EXPECTED_STATUS = StatusRanges.parse("200-399")

_CHUNK_BYTES = 16 * 1024
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
    certificate = None
    try:
        if check is not None and worker is not None:
            worker.join(timeout=max(0.0, check.deadline - time.perf_counter()) + DEADLINE_GRACE_SECONDS)
            if worker.is_alive() and check.outcome is None:
                check.abandon()  # the worker ends on its own socket timeouts; nobody waits for it
                outcome = (False, check.status_code, timeout_error(request.timeout_seconds), check.url)
            elif worker.is_alive():  # the check is done; only its certificate read ran late
                outcome = check.outcome
            else:
                outcome = check.outcome
                certificate = check.certificate
        assert outcome is not None
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


# ---- one check -----------------------------------------------------------------------------------

_Outcome = tuple[bool, int | None, str | None, str | None]  # up, status code, error, final URL


class _Check:
    def __init__(self, request: ProbeRequest, *, deadline: float) -> None:
        self.request = request
        self.deadline = deadline
        self.url = request.url.strip()
        self.status_code: int | None = None
        self.outcome: _Outcome | None = None
        self.certificate: Certificate | None = None
        self._response: requests.Response | None = None
        self._started = time.perf_counter()

    def run(self) -> None:
        try:
            self.outcome = self._follow()
        except Exception as exc:
            error = describe_failure(exc, url=self.request.url, timeout_seconds=self.request.timeout_seconds)
            self.outcome = (False, self.status_code, error, self.url)
        finally:
            if self._response is not None:
                self._response.close()
        if self.request.read_certificate:
            self.certificate = self._read_certificate()

    def _read_certificate(self) -> Certificate | None:
        """The certificate of the URL's own host (not a redirect's), within what is left of the
        deadline; None when it cannot be read (the checker tries again at its next check)."""
        url = self.request.url.strip()
        if urlsplit(url).scheme.lower() != "https":
            return None
        try:
            return read_certificate(
                url, allow_private=self.request.allow_private, timeout_seconds=self._remaining()
            )
        except Exception as exc:  # a failed read is no failed check: the check said what it saw
            log.info("could not read the certificate of %s: %s", url, type(exc).__name__)
            return None

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
        with SafeAdapter(allow_private=request.allow_private) as adapter:
            for hop in itertools.count():
                refusal = url_refusal(
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
        self._response = response = adapter.send(
            prepared,
            stream=True,
            timeout=timeout,  # type: ignore[arg-type]
            verify=self.request.verify_tls,
        )
        self.status_code = response.status_code
        return response

    def _judge(self, response: requests.Response) -> _Outcome:
        request = self.request
        status = response.status_code
        if status not in request.expected_status:
            return False, status, f"status {status} not in {request.expected_status}", self.url
        if request.assertions:
            return self._judge_assertions(response)
        if request.keyword is not None and not self._body_contains(response, request.keyword):
            return False, status, _keyword_missing(request.keyword), self.url
        return True, status, None, self.url

    def _judge_assertions(self, response: requests.Response) -> _Outcome:
        """The keyword, then each assertion in order; the body is read once, up to BODY_CAP_BYTES,
        and only when the keyword or a json assertion needs it."""
        request, status = self.request, response.status_code
        elapsed_ms = max(0, round((time.perf_counter() - self._started) * 1000))  # until the headers
        body, truncated = b"", False
        if request.keyword is not None or any(a.source == "json" for a in request.assertions):
            body, truncated = self._read_body(response)
        if request.keyword is not None:
            text = body.decode(response_charset(response), errors="replace")
            if request.keyword not in text:
                return False, status, _keyword_missing(request.keyword), self.url
        headers = {name: value for name, value in response.headers.items()}
        failure = first_failure(request.assertions, Response(body, headers, elapsed_ms, truncated))
        return failure is None, status, failure, self.url

    def _read_body(self, response: requests.Response) -> tuple[bytes, bool]:
        """Up to BODY_CAP_BYTES of the (decompressed) body, and whether it went on past them."""
        parts: list[bytes] = []
        read = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            self._remaining()
            if read + len(chunk) > BODY_CAP_BYTES:
                parts.append(chunk[: BODY_CAP_BYTES - read])
                return b"".join(parts), True
            parts.append(chunk)
            read += len(chunk)
        return b"".join(parts), False

    def _body_contains(self, response: requests.Response, keyword: str) -> bool:
        """Read and decode the body until the keyword shows up, the body ends, or BODY_CAP_BYTES are read."""
        decoder = codecs.getincrementaldecoder(response_charset(response))(errors="replace")
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
            raise DeadlineExceeded
        return remaining


def _keyword_missing(keyword: str) -> str:
    shown = keyword if len(keyword) <= 60 else keyword[:57] + "..."
    return f"keyword {shown!r} not found"


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
