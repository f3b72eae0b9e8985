"""The local stack (`python -m infra.local`, what `make run` starts) as a subprocess, over HTTP."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import _free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]


class LocalStack:
    def __init__(self, api_url: str, aws_url: str, process: subprocess.Popen, ws_url: str = "") -> None:
        self.log_path: Path | None = None
        self.web_url = ""
        self.api_url = api_url
        self.aws_url = aws_url
        self.ws_url = ws_url
        self.process = process

    def url(self, path: str) -> str:
        return f"{self.api_url}{path}"

    def emails_to(self, address: str) -> list[dict]:
        # moto serializes every backend for this page while the stack's threads keep writing, and
        # now and then fails with a 500 (a dict changed size): ask again.
        for _ in range(5):
            reply = requests.get(f"{self.aws_url}/moto-api/data.json", timeout=10)
            if reply.status_code == 200:
                break
            time.sleep(0.2)
        data = reply.json()
        return [m for m in data["ses"]["Message"] if address in m["destinations"]["ToAddresses"]]

    def account(self) -> dict[str, str]:
        """A verified user with an org: {"email", "token", "org_id", "auth"}."""
        import uuid

        email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
        requests.post(
            self.url("/v1/auth/signup"), json={"email": email, "password": "password-1"}, timeout=10
        )
        requests.post(
            self.url("/v1/auth/verify-email"),
            json={"email": email, "code": self.last_code(email)},
            timeout=10,
        )
        login = requests.post(
            self.url("/v1/auth/login"), json={"email": email, "password": "password-1"}, timeout=10
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        org = requests.post(self.url("/v1/orgs"), json={"name": "E2E"}, headers=auth, timeout=10).json()
        return {"email": email, "auth": auth, "org_id": org["id"]}

    def last_code(self, address: str) -> str:
        subjects = [m["subject"] for m in self.emails_to(address)]
        codes = [re.search(r"\b(\d{6})\b", s) for s in subjects]
        return [c.group(1) for c in codes if c][-1]


def wait_for(condition, *, seconds: float, what: str, every: float = 0.25):
    """Poll ``condition`` until it returns something truthy (returned) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def start_stack(extra_env: dict[str, str] | None = None) -> LocalStack:
    api_port, aws_port, ws_port, web_port = _free_port(), _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "AWS_"))}
    env.update(
        {
            "VIGIL_API_PORT": str(api_port),
            "VIGIL_AWS_PORT": str(aws_port),
            "VIGIL_WS_PORT": str(ws_port),
            "VIGIL_WEB_PORT": str(web_port),
            "VIGIL_BCRYPT_ROUNDS": "4",
            "VIGIL_TICK_SECONDS": "1",
            "VIGIL_MIN_INTERVAL_SECONDS": "1",
            "VIGIL_MIN_HEARTBEAT_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    # A file, not a pipe: nobody reads a pipe while tests run, and a full one would block the stack.
    log = tempfile.NamedTemporaryFile(prefix="vigil-local-stack-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    stack = LocalStack(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{aws_port}",
        process,
        ws_url=f"ws://127.0.0.1:{ws_port}",
    )
    stack.web_url = f"http://127.0.0.1:{web_port}"
    stack.log_path = Path(log.name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited early:\n{stack.log_path.read_text()[-5000:]}")
        try:
            if requests.get(stack.url("/health"), timeout=1).status_code == 200:
                return stack
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the local stack did not answer /health within 60 s")


def stop_stack(stack: LocalStack) -> tuple[int, str]:
    stack.process.send_signal(signal.SIGTERM)
    try:
        stack.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait()
        return -9, stack.log_path.read_text()[-5000:]
    return stack.process.returncode, stack.log_path.read_text()[-5000:]


def running_stack():
    """A stack for a fixture's scope, which must stop cleanly (exit code 0) when it ends."""
    stack = start_stack()
    yield stack
    code, output = stop_stack(stack)
    assert code == 0, output


@pytest.fixture(scope="session")
def local_stack():
    yield from running_stack()
