"""The HTTP prober against real HTTP(S) servers on 127.0.0.1 (no internet here).

Functional cases use allow_private=True, since every server is on loopback. The
blocking cases run with allow_private=False, and make a name resolve where the
test needs it by replacing socket.getaddrinfo. Where a probe must *succeed*
under the deployed policy, the `public` fixture lets 127.0.0.1 stand in for a
public address (and nothing else).
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests.adapters
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.adapters import prober, safe_connections
from chalicelib.adapters.prober import USER_AGENT, ProbeRequest, ProbeResult, probe, probe_all
from chalicelib.domain import targets
from chalicelib.domain.status_codes import StatusRanges

# ---- a test server -------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive allowed: a prober reusing connections would show
    server: TargetServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.route()

    def do_POST(self) -> None:
        self.route()

    def do_PUT(self) -> None:
        self.route()

    def do_HEAD(self) -> None:
        self.answer(200, b"")

    def route(self) -> None:
        self.server.requests.append((self.client_address, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        path = url.path
        if path == "/ok":
            self.answer(200, b"<html><body>all systems OK</body></html>")
        elif path.startswith("/status/"):
            self.answer(int(path.removeprefix("/status/")), b"status page")
        elif path == "/sleep":
            time.sleep(float(query["seconds"]))
            self.answer(int(query.get("status", 200)), b"slept")
        elif path == "/method":
            self.answer(200, f"method={self.command}".encode())
        elif path.startswith("/chain/"):  # /chain/3 -> /chain/2 -> /chain/1 -> /chain/0 -> /ok
            left = int(path.removeprefix("/chain/"))
            self.redirect(302, f"/chain/{left - 1}" if left else "/ok")
        elif path.startswith("/absolute-chain/"):
            left = int(path.removeprefix("/absolute-chain/"))
            here = f"http://127.0.0.1:{self.server.server_port}"
            self.redirect(301, f"{here}/absolute-chain/{left - 1}" if left else f"{here}/ok")
        elif path == "/relative":
            self.redirect(302, "ok")  # relative to the directory of /relative
        elif path == "/loop":
            self.redirect(302, "/loop")
        elif path == "/redirect":
            self.redirect(int(query.get("status", 302)), query["to"])
        elif path == "/large":
            body = b"x" * (int(query["size"]) - len(query["tail"])) + query["tail"].encode()
            self.answer(200, body)
        elif path == "/gzip":
            self.answer(200, gzip.compress(b"compressed and OK"), headers={"Content-Encoding": "gzip"})
        elif path == "/latin-1":
            self.answer(
                200, "café".encode("latin-1"), headers={"Content-Type": "text/plain; charset=ISO-8859-1"}
            )
        elif path == "/user-agent":
            self.answer(200, f"ua={self.headers.get('User-Agent')}".encode())
        elif path == "/set-cookie":
            self.redirect(302, "/no-cookie", headers={"Set-Cookie": "session=secret; Path=/"})
        elif path == "/no-cookie":
            self.answer(400 if "Cookie" in self.headers else 200, b"")
        elif path == "/drip-body":
            self.drip(headers_done=True)
        elif path == "/drip-headers":
            self.drip(headers_done=False)
        else:
            self.answer(404, b"not found")

    def answer(self, status: int, body: bytes, *, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, status: int, location: str, *, headers: dict[str, str] | None = None) -> None:
        self.answer(status, b"", headers={"Location": location, **(headers or {})})

    def drip(self, *, headers_done: bool) -> None:
        """A byte every 0.1 s for 3 s: no single read ever times out."""
        if headers_done:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        else:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        try:
            for _ in range(30):
                time.sleep(0.1)
                self.wfile.write(b"a")
        except OSError:
            pass  # the prober gave up, as it should
        self.close_connection = True


class TargetServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections: list[tuple[str, int]] = []  # client address of every accepted connection
        self.requests: list[tuple[tuple[str, int], str]] = []  # (client address, path) of every request

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.append(client_address)
        super().process_request(request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up early is what half of these tests do


def serve(server: TargetServer) -> Iterator[TargetServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[TargetServer]:
    yield from serve(TargetServer())


@pytest.fixture(scope="module")
def base(server: TargetServer) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def check(url: str, **fields: Any) -> ProbeResult:
    """A probe as the local stack makes it (private targets allowed), short timeout."""
    fields.setdefault("allow_private", True)
    fields.setdefault("timeout_seconds", 3.0)
    return probe(ProbeRequest(url=url, **fields))


# ---- names that resolve where a test says --------------------------------------------------------


@dataclass
class FakeDns:
    answers: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)  # name -> EAI_* code


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host in fake.delays:
            time.sleep(fake.delays[host])
        if host in fake.failures:
            raise socket.gaierror(fake.failures[host], "fake resolver failure")
        if host in fake.answers:
            address = fake.answers[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


@pytest.fixture
def public(monkeypatch: pytest.MonkeyPatch, dns: FakeDns, server: TargetServer) -> str:
    """http://public.example:<port>: a name the deployed policy lets through, served by the test server."""
    loopback = ipaddress.ip_address("127.0.0.1")

    def is_forbidden_address(address: targets.IPAddress) -> bool:
        return address != loopback and targets.is_forbidden_address(address)

    monkeypatch.setattr(safe_connections, "is_forbidden_address", is_forbidden_address)
    dns.answers["public.example"] = "127.0.0.1"
    return f"http://public.example:{server.server_port}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- up and down ---------------------------------------------------------------------------------


def test_a_200_is_up(base: str) -> None:
    result = check(f"{base}/ok")
    assert result.up
    assert result.status_code == 200
    assert result.error is None
    assert result.final_url == f"{base}/ok"
    assert 0 <= result.response_time_ms < 3000


def test_a_status_outside_the_expected_ranges_is_down(base: str) -> None:
    result = check(f"{base}/status/503")
    assert (result.up, result.status_code, result.error) == (False, 503, "status 503 not in 200-399")


def test_the_expected_ranges_decide_what_is_up(base: str) -> None:
    assert check(f"{base}/status/503", expected_status=StatusRanges.parse("5xx")).up
    assert not check(f"{base}/ok", expected_status=StatusRanges.parse("201")).up


def test_keyword_found_is_up_and_missing_is_down(base: str) -> None:
    assert check(f"{base}/ok", keyword="OK").up
    result = check(f"{base}/ok", keyword="DOWN")
    assert (result.up, result.status_code, result.error) == (False, 200, "keyword 'DOWN' not found")


def test_keyword_is_searched_in_the_decoded_body(base: str) -> None:
    assert check(f"{base}/gzip", keyword="compressed and OK").up
    assert check(f"{base}/latin-1", keyword="café").up


def test_keyword_is_searched_in_the_first_mebibyte_only(base: str) -> None:
    assert check(f"{base}/large?size=900000&tail=NEEDLE", keyword="NEEDLE").up
    started = time.perf_counter()
    result = check(f"{base}/large?size=3000000&tail=NEEDLE", keyword="NEEDLE")
    assert result.error == "keyword 'NEEDLE' not found"
    assert time.perf_counter() - started < 2.5


def test_head_and_post_are_sent_as_such(base: str) -> None:
    assert check(f"{base}/method", method="HEAD").status_code == 200
    assert check(f"{base}/method", method="POST", keyword="method=POST").up
    assert check(f"{base}/method", method="put", keyword="method=PUT").up


def test_an_unknown_method_is_a_result_not_an_exception(base: str) -> None:
    result = check(f"{base}/ok", method="TRACE")
    assert (result.up, result.error) == (False, "unsupported method 'TRACE'")


def test_the_user_agent_is_vigils_unless_the_service_sets_one(base: str) -> None:
    assert check(f"{base}/user-agent", keyword=f"ua={USER_AGENT}").up
    assert check(f"{base}/user-agent", headers={"user-agent": "Custom/2"}, keyword="ua=Custom/2").up


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/", "invalid url: must start with http:// or https://"),
        ("http://user:secret@example.com/", "invalid url: must not carry credentials; send them in headers"),
        ("http://[::1/", "invalid url: is not a valid URL"),
        ("http://example.com:99999/", "invalid url: has an invalid port"),
        ("", "invalid url: is required"),
    ],
)
def test_a_malformed_url_is_a_result(url: str, error: str) -> None:
    result = check(url)
    assert (result.up, result.status_code, result.error) == (False, None, error)


def test_an_unexpected_failure_is_reported_as_internal(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(prober.requests.Request, "prepare", explode)
    result = check(f"{base}/ok")
    assert (result.up, result.error) == (False, "internal: RuntimeError")


# ---- network failures ----------------------------------------------------------------------------


def test_a_closed_port_is_connection_refused() -> None:
    result = check(f"http://127.0.0.1:{closed_port()}/")
    assert (result.up, result.status_code, result.error) == (False, None, "connection refused")


@pytest.mark.parametrize(
    ("code", "error"),
    [(socket.EAI_NONAME, "dns: no such host"), (socket.EAI_AGAIN, "dns: temporary failure")],
)
def test_a_failed_lookup_is_a_dns_failure(dns: FakeDns, code: int, error: str) -> None:
    dns.failures["unknown.example"] = code
    result = check("http://unknown.example/", allow_private=False)
    assert (result.up, result.status_code, result.error) == (False, None, error)


def test_a_slow_answer_times_out_close_to_the_timeout(base: str) -> None:
    result = check(f"{base}/sleep?seconds=3", timeout_seconds=0.5)
    assert (result.up, result.status_code, result.error) == (False, None, "timeout after 0.5s")
    assert 450 <= result.response_time_ms <= 1500


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_server_dripping_bytes_cannot_hold_a_check_past_its_timeout(base: str, path: str) -> None:
    result = check(f"{base}{path}", timeout_seconds=0.6, keyword="never there")
    assert (result.up, result.error) == (False, "timeout after 0.6s")
    assert 550 <= result.response_time_ms <= 1600


def test_a_hung_dns_lookup_cannot_hold_a_check_past_its_timeout(dns: FakeDns) -> None:
    dns.delays["slow-dns.example"] = 2.0
    started = time.perf_counter()
    result = check("http://slow-dns.example/", timeout_seconds=0.5, allow_private=False)
    assert (result.up, result.error) == (False, "timeout after 0.5s")
    assert time.perf_counter() - started < 1.5


# ---- redirects -----------------------------------------------------------------------------------


def test_relative_and_absolute_redirects_are_followed(base: str) -> None:
    for path in ("/chain/3", "/absolute-chain/3", "/relative"):
        result = check(f"{base}{path}", keyword="all systems OK")
        assert (result.up, result.status_code, result.final_url) == (True, 200, f"{base}/ok"), path


def test_at_most_max_redirects_are_followed(base: str) -> None:
    assert check(f"{base}/chain/4").up  # five redirects
    result = check(f"{base}/chain/5")  # six
    assert (result.up, result.status_code, result.error) == (False, 302, "too many redirects (5)")
    assert check(f"{base}/chain/1", max_redirects=1).error == "too many redirects (1)"


def test_a_redirect_loop_is_too_many_redirects(base: str) -> None:
    result = check(f"{base}/loop")
    assert (result.up, result.error, result.final_url) == (False, "too many redirects (5)", f"{base}/loop")


def test_max_redirects_zero_judges_the_redirect_itself(base: str) -> None:
    result = check(f"{base}/chain/1", max_redirects=0)
    assert (result.up, result.status_code, result.final_url) == (True, 302, f"{base}/chain/1")
    assert not check(f"{base}/chain/1", max_redirects=0, expected_status=StatusRanges.parse("200")).up


def test_see_other_turns_a_post_into_a_get_and_307_keeps_it(base: str) -> None:
    assert check(f"{base}/redirect?status=303&to=/method", method="POST", keyword="method=GET").up
    assert check(f"{base}/redirect?status=307&to=/method", method="POST", keyword="method=POST").up


def test_a_redirect_to_another_scheme_is_not_followed(base: str) -> None:
    result = check(f"{base}/redirect?to=file:///etc/passwd")
    assert (result.up, result.status_code) == (False, 302)
    assert result.error == "invalid redirect: must start with http:// or https://"


def test_cookies_set_on_the_way_are_not_sent(base: str) -> None:
    assert check(f"{base}/set-cookie").up


# ---- unsafe targets (allow_private=False) --------------------------------------------------------


@pytest.fixture
def bystander() -> Iterator[TargetServer]:
    """A server of its own, so that no other test's connection lands in its count."""
    yield from serve(TargetServer())


def never_reached(target: TargetServer) -> bool:
    time.sleep(0.1)  # an accepted connection is recorded by the server's own thread
    return target.connections == []


def test_loopback_is_refused_before_any_connection(bystander: TargetServer) -> None:
    result = check(f"http://127.0.0.1:{bystander.server_port}/ok", allow_private=False)
    assert (result.up, result.status_code, result.error) == (False, None, "blocked address 127.0.0.1")
    assert never_reached(bystander)


def test_a_name_resolving_to_loopback_is_refused_at_connect(dns: FakeDns, bystander: TargetServer) -> None:
    # DNS rebinding: the name passed every check made before connecting.
    dns.answers["rebind.example"] = "127.0.0.1"
    result = check(f"http://rebind.example:{bystander.server_port}/ok", allow_private=False)
    assert (result.up, result.error) == (False, "blocked address 127.0.0.1")
    assert never_reached(bystander)  # refused before connecting, not after


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "10.0.0.1", "::1", "::ffff:127.0.0.1", "fd00:ec2::254"]
)
def test_every_forbidden_answer_is_refused_at_connect(dns: FakeDns, address: str) -> None:
    dns.answers["rebind.example"] = address
    result = check("http://rebind.example/", allow_private=False)
    assert result.error == f"blocked address {ipaddress.ip_address(address)}"


def test_a_public_target_is_probed_under_the_deployed_policy(public: str) -> None:
    result = check(f"{public}/chain/2", allow_private=False, keyword="OK")
    assert (result.up, result.final_url) == (True, f"{public}/ok")


@pytest.mark.parametrize(
    ("to", "error"),
    [
        ("http://169.254.169.254/latest/meta-data/", "blocked address 169.254.169.254"),
        ("http://127.0.0.1:{port}/ok", "blocked address 127.0.0.1"),
        ("http://2130706433:{port}/ok", "blocked address 127.0.0.1"),
        ("http://[::ffff:a9fe:a9fe]/", f"blocked address {ipaddress.ip_address('::ffff:a9fe:a9fe')}"),
        ("http://localhost:{port}/ok", "blocked host localhost"),
        ("http://metadata.google.internal/", "blocked host metadata.google.internal"),
        ("http://rebind.example:{port}/ok", "blocked address 127.0.0.2"),
    ],
)
def test_a_redirect_to_a_blocked_target_is_refused(
    public: str, dns: FakeDns, server: TargetServer, to: str, error: str
) -> None:
    dns.answers["rebind.example"] = "127.0.0.2"
    to = to.format(port=server.server_port)
    result = check(f"{public}/redirect?to={to}", allow_private=False)
    assert (result.up, result.status_code, result.error, result.final_url) == (False, 302, error, to)


def test_the_peer_actually_reached_is_checked(server: TargetServer) -> None:
    sock = socket.create_connection(("127.0.0.1", server.server_port))
    with pytest.raises(safe_connections.BlockedAddress, match=r"blocked address 127\.0\.0\.1"):
        safe_connections.refuse_forbidden_peer(sock, allow_private=False)
    assert sock.fileno() == -1  # closed, nothing sent
    with socket.create_connection(("127.0.0.1", server.server_port)) as allowed:
        safe_connections.refuse_forbidden_peer(allowed, allow_private=True)


# ---- connections ---------------------------------------------------------------------------------


def test_every_check_opens_its_own_connection(base: str, server: TargetServer) -> None:
    assert check(f"{base}/ok?check=first").up
    assert check(f"{base}/ok?check=second").up
    clients = [client for client, path in server.requests if path in ("/ok?check=first", "/ok?check=second")]
    assert len(clients) == 2
    assert clients[0] != clients[1]  # another client port: another connection


# ---- TLS -----------------------------------------------------------------------------------------


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class TlsServer:
    url: str  # https://probe.test:<port>, resolvable through the `dns` fixture
    ca_file: Path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    folder = tmp_path_factory.mktemp("tls")
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Vigil Test CA", ca_key, None)
    leaf = _certificate("probe.test", leaf_key, ("Vigil Test CA", ca_key))
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "leaf.pem", folder / "leaf.key")
    httpd = TargetServer()
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    for running in serve(httpd):
        yield TlsServer(f"https://probe.test:{running.server_port}", folder / "ca.pem")


@pytest.fixture
def tls(tls_server: TlsServer, dns: FakeDns) -> TlsServer:
    dns.answers["probe.test"] = "127.0.0.1"
    return tls_server


def test_an_untrusted_certificate_is_a_tls_failure(tls: TlsServer) -> None:
    result = check(f"{tls.url}/ok")
    assert result.up is False
    assert result.error is not None and result.error.startswith("tls: certificate verify failed")


def test_a_trusted_certificate_is_verified_against_the_hostname(
    tls: TlsServer, dns: FakeDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(tls.ca_file))
    assert check(f"{tls.url}/ok", keyword="all systems OK").up
    dns.answers["other.test"] = "127.0.0.1"  # same address, a name the certificate does not carry
    other = check(tls.url.replace("probe.test", "other.test") + "/ok")
    assert other.error == (
        "tls: certificate verify failed (Hostname mismatch, certificate is not valid for 'other.test')"
    )
    by_address = check(tls.url.replace("probe.test", "127.0.0.1") + "/ok")
    assert by_address.error is not None and by_address.error.startswith("tls: certificate verify failed")


def test_plain_http_to_a_tls_port_is_an_error_not_a_hang(tls: TlsServer) -> None:
    result = check(tls.url.replace("https://", "http://") + "/ok", timeout_seconds=1.0)
    assert result.up is False
    assert result.error in ("connection reset", "connection closed without a response")


# ---- batches -------------------------------------------------------------------------------------


def test_a_batch_runs_concurrently_and_answers_in_order(base: str) -> None:
    batch = [
        ProbeRequest(
            url=f"{base}/sleep?seconds=0.5&status={500 + i}",
            expected_status=StatusRanges.parse("5xx"),
            allow_private=True,
            timeout_seconds=4.0,
        )
        for i in range(20)
    ]
    started = time.perf_counter()
    results = probe_all(batch)
    elapsed = time.perf_counter() - started
    assert [r.status_code for r in results] == [500 + i for i in range(20)]
    assert all(r.up for r in results)
    assert elapsed < 5.0  # one after the other would take 10 s


def test_a_slow_target_delays_a_batch_by_its_own_timeout_only(base: str) -> None:
    slow = ProbeRequest(url=f"{base}/sleep?seconds=5", allow_private=True, timeout_seconds=0.5)
    fast = ProbeRequest(url=f"{base}/ok", allow_private=True)
    started = time.perf_counter()
    results = probe_all([slow, fast, fast, fast], max_workers=2)
    assert [r.up for r in results] == [False, True, True, True]
    assert results[0].error == "timeout after 0.5s"
    assert time.perf_counter() - started < 2.5


def test_an_empty_batch_is_an_empty_list() -> None:
    assert probe_all([]) == []


def test_probe_never_raises_even_on_nonsense(base: str) -> None:
    nonsense: list[Callable[[], ProbeResult]] = [
        lambda: check(f"{base}/ok", timeout_seconds=0),
        lambda: check(f"{base}/ok", timeout_seconds=float("nan")),
        lambda: check(f"{base}/ok", headers={"X-Bad": "a\r\nInjected: yes"}),
        lambda: check("http://exa mple.com/"),
    ]
    for attempt in nonsense:
        result = attempt()
        assert result.up is False
        assert result.error is not None and len(result.error) <= 200
