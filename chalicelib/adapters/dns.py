"""Name resolution with a deadline, for checking a target when it is saved."""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from chalicelib.domain.targets import IPAddress

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")


def resolve(host: str, *, timeout_seconds: float = 2.0) -> list[IPAddress]:
    """Every address ``host`` resolves to; empty when it does not resolve in time."""

    def lookup() -> list[IPAddress]:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]

    try:
        return _POOL.submit(lookup).result(timeout=timeout_seconds)
    except (FutureTimeout, OSError, ValueError):
        return []
