"""A local HTTPS server whose certificate and answer a test sets, for TLS and assertion tests.

Each connection is wrapped with the certificate in use at that moment, so a test can "renew" the
certificate between checks; ``connections`` counts TCP connections (a check, or a certificate read).
"""

from __future__ import annotations

import datetime
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.certificates import self_signed_certificate


class HttpsServer:
    def __init__(self, *, valid_for: datetime.timedelta = datetime.timedelta(days=90)) -> None:
        self.status = 200
        self.body = b'{"status": "UP"}'
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.connections = 0
        self._folder = Path(tempfile.mkdtemp(prefix="vigil-https-"))
        self._renewals = 0
        self.cert_file: Path
        self.context = self._context(valid_for)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(server.status)
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[Any, Any]:
                sock, address = super().get_request()
                server.connections += 1
                return server.context.wrap_socket(sock, server_side=True), address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up after the handshake (a certificate read) is fine

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def renew(self, valid_for: datetime.timedelta) -> None:
        """Serve a new certificate from the next connection on."""
        self.context = self._context(valid_for)

    def _context(self, valid_for: datetime.timedelta) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = self_signed_certificate(key, "vigil-tls.test", ip_address="127.0.0.1", valid_for=valid_for)
        self.cert_file = cert_file = self._folder / f"cert-{self._renewals}.pem"
        self._renewals += 1
        key_file = self._folder / "key.pem"
        cert_file.write_bytes(pem)
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
