"""The URL policy for everything Vigil reaches out to (probed services, webhook and Slack targets),
applied when they are saved: the domain's rules on the URL as written (``domain/targets.py``, on
its IDNA-normalised host), then, in a deployed stack, its host resolved, so a name that points
inside the network is refused now rather than failing every send. The prober and the webhook
sender check again on the address they actually connect to (DNS can change)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from chalicelib.adapters import dns
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.targets import canonical_host, is_forbidden_address, parse_address


def refuse_private_resolution(urls: Iterable[tuple[str, str]]) -> None:
    """``urls`` are (field, url) pairs already checked by ``check_url``; each distinct host is
    resolved once. InvalidInput naming the first field whose host resolves somewhere internal."""
    verdicts: dict[str, bool] = {}
    for field, url in urls:
        host = canonical_host(urlsplit(url).hostname or "")
        if not host or parse_address(host) is not None:
            continue  # a literal address was judged by check_url already
        if host not in verdicts:
            verdicts[host] = any(is_forbidden_address(address) for address in dns.resolve(host))
        if verdicts[host]:
            raise InvalidInput("resolves to a private, loopback, link-local or metadata address", field=field)
