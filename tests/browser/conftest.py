"""The dashboard in Debian's Chromium (Playwright for Python) against one local stack per session.

Pages are found by role and name as a person finds them; every page visited is scanned with axe-core
(from web/node_modules) and must have no serious or critical violation; screenshots land in
tests/browser/screenshots/.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import start_stack, stop_stack

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps calling Google's hosts, which this network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "password-1"


@pytest.fixture(scope="session")
def stack():
    if not (ROOT / "web" / "dist" / "index.html").exists():
        pytest.fail("web/dist is not built: run `make web` (make test does)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    local = start_stack()
    yield local
    code, output = stop_stack(local)
    assert code == 0, output


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser, stack):
    """Pages in fresh contexts (separate people): ``new_page()``, ``new_page(dark=True, width=375)``."""
    contexts = []

    def make(*, dark: bool = False, width: int = 1280) -> Page:
        context = browser.new_context(
            base_url=stack.web_url,
            viewport={"width": width, "height": 900},
            color_scheme="dark" if dark else "light",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def check_accessibility(page: Page) -> None:
    """axe-core's scan of the page as it is now: no serious or critical violation."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:160] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe on {page.url}:\n{json.dumps(bad, indent=1)}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def has_route(stack, path: str) -> bool:
    return path in requests.get(stack.url("/openapi.json"), timeout=10).json()["paths"]


class Person:
    """Someone with a verified account, made through the API (the UI's own sign-up has its test)."""

    def __init__(self, stack, *, name: str) -> None:
        self.name = name
        self.email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        requests.post(
            stack.url("/v1/auth/signup"),
            json={"email": self.email, "password": PASSWORD, "name": name},
            timeout=10,
        ).raise_for_status()
        requests.post(
            stack.url("/v1/auth/verify-email"),
            json={"email": self.email, "code": stack.last_code(self.email)},
            timeout=10,
        ).raise_for_status()
        login = requests.post(
            stack.url("/v1/auth/login"), json={"email": self.email, "password": PASSWORD}, timeout=10
        )
        self.auth = {"Authorization": f"Bearer {login.json()['access_token']}"}


def log_in(page: Page, person: Person, then: str = "/") -> None:
    page.goto(f"/login?next={then}")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/orgs/"))


class Target:
    """A local HTTP server the test turns up and down."""

    def __init__(self) -> None:
        self.status = 200
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"all good" if target.status < 400 else b"broken"
                self.send_response(target.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    server = Target()
    yield server
    server.close()


def wait_until(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
