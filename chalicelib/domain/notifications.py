"""What a notification about an incident says on each channel, and how webhooks are signed.

Pure: no clock, no I/O (callers pass times). The use case snapshots an ``IncidentSummary`` onto
each notification when it is queued, so every retry sends the same words.

Webhook signatures (``X-Vigil-Signature``), the way Stripe signs its webhooks::

    X-Vigil-Signature: t=1718000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

``v1`` is the lowercase hex HMAC-SHA256, keyed with the org's webhook secret, of the timestamp, a
dot and the raw request body: ``hmac(secret, f"{t}.".encode() + body)``. A receiver recomputes it
over the bytes it received (before parsing the JSON), compares in constant time, and rejects a
``t`` too far from its own clock (five minutes is usual) so that a captured request cannot be
replayed later. ``verify_webhook_signature`` does exactly that and is what receivers can copy.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.enums import CHANNELS
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.messages import EmailMessage

KINDS = ("escalation", "acknowledged", "resolved")
WEBHOOK_EVENTS = ("incident.triggered", "incident.escalated", "incident.acknowledged", "incident.resolved")
SIGNATURE_HEADER = "X-Vigil-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
SMS_MAX_CHARS = 160
DESCRIPTION_MAX_CHARS = 2000  # what a snapshot keeps; an email shows it all, Slack less
SLACK_DESCRIPTION_MAX_CHARS = 500

SEVERITY_COLOURS = {"critical": "#D92D20", "high": "#F79009", "medium": "#FDB022", "low": "#2E90FA"}
RESOLVED_COLOUR = "#12B76A"

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # also for request schemas
MAX_PHONE_INPUT_CHARS = 32  # spaces included, as the request schemas say (maxLength)
_E164 = re.compile(E164_PATTERN)
_PHONE_SEPARATORS = re.compile(r"[\s().\-]")


@dataclass(frozen=True)
class IncidentSummary:
    """What every channel says about an incident, as it was when the notification was queued."""

    org_id: str
    incident_id: str
    title: str
    description: str
    severity: str
    status: str
    service_name: str | None
    url: str  # the incident in the API: f"{public_url}/v1/orgs/{org_id}/incidents/{incident_id}"
    created_at: int  # epoch seconds
    service_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentSummary:
        return cls(
            org_id=str(data["org_id"]),
            incident_id=str(data["incident_id"]),
            title=str(data["title"]),
            description=str(data.get("description") or ""),
            severity=str(data["severity"]),
            status=str(data["status"]),
            service_name=_optional_str(data.get("service_name")),
            url=str(data["url"]),
            created_at=int(data["created_at"]),
            service_id=_optional_str(data.get("service_id")),
        )


def incident_url(public_url: str, org_id: str, incident_id: str) -> str:
    return f"{public_url.rstrip('/')}/v1/orgs/{org_id}/incidents/{incident_id}"


def notification_id(*, kind: str, step: int, loop: int, channel: str, target: str) -> str:
    """Deterministic, so a replayed stream record or a retried step finds the record it wrote.

    Escalation steps sort by step then loop; lifecycle notices are prefixed by their kind. For those,
    ``step`` should tell occurrences apart (the incident's version at the change, say), so that
    resolving a reopened incident notifies again while a replay of the same change does not.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    digest = hashlib.sha1(normalized_target(channel, target).encode(), usedforsecurity=False).hexdigest()
    key = f"{step:03d}#{loop:02d}#{channel}#{digest[:16]}"
    return key if kind == "escalation" else f"{kind}#{key}"


def normalized_target(channel: str, target: str) -> str:
    """The form two spellings of one address share (email is case-insensitive in practice)."""
    target = target.strip()
    if channel == "email":
        return target.lower()
    if channel == "sms":
        return _PHONE_SEPARATORS.sub("", target)
    return target


def webhook_event(kind: str, *, step: int, loop: int) -> str:
    """The event a webhook receives: the first escalation step is the trigger, later ones escalate."""
    if kind == "escalation":
        return "incident.triggered" if step == 0 and loop == 0 else "incident.escalated"
    if kind in ("acknowledged", "resolved"):
        return f"incident.{kind}"
    raise ValueError(f"unknown notification kind {kind!r}")


# ---- email --------------------------------------------------------------------------------------


def email_message(summary: IncidentSummary, *, to: str, reason: str) -> EmailMessage:
    severity = summary.severity.upper()
    title = _one_line(summary.title)
    state = "" if summary.status == "open" else f"{summary.status.capitalize()}: "
    rows = [
        ("Severity", summary.severity),
        ("Status", summary.status),
        ("Service", summary.service_name or "-"),
        ("Opened", iso(summary.created_at)),
        ("Why you get this", reason),
    ]
    text = "\n".join(
        [
            f"[{severity}] {title}",
            "",
            *(f"{name}: {value}" for name, value in rows),
            "",
            summary.description,
            "",
            f"Incident: {summary.url}",
            "",
            "You get this email from Vigil because of your notification preferences "
            "or an escalation policy of your organisation.",
        ]
    )
    colour = _colour(summary)
    table = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{html.escape(name)}</th>'
        f"<td>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    description = html.escape(summary.description).replace("\n", "<br>")
    body = (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<p style="border-left:4px solid {colour};padding-left:8px;font-size:1.2em">'
        f"<strong>[{html.escape(severity)}] {html.escape(title)}</strong></p>"
        f"<table>{table}</table>"
        + (f"<p>{description}</p>" if description else "")
        + f'<p><a href="{html.escape(summary.url)}">Open the incident</a></p>'
        '<p style="color:#667085;font-size:0.9em">You get this email from Vigil because of your '
        "notification preferences or an escalation policy of your organisation.</p>"
        "</body></html>"
    )
    return EmailMessage(to=to, subject=f"[{severity}] {state}{title}"[:250], text=text + "\n", html=body)


# ---- SMS ----------------------------------------------------------------------------------------

# GSM 03.38's basic character set: each of these costs one of the 160 characters of one SMS. Anything
# else (an emoji, a curly quote, even "[" from the extension table) would switch the whole message to
# UCS-2 (70 characters) or cost two, so it is replaced.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "~": "-",
    "\\": "/",
    "|": "/",
    "^": "",
    "\u20ac": "EUR",
    "\t": " ",
}


def gsm_safe(text: str) -> str:
    """Text made of GSM 03.38 basic characters only, on one line."""
    out = []
    for char in text:
        if char in _GSM_BASIC:
            out.append(char)
        elif char in _GSM_REPLACEMENTS:
            out.append(_GSM_REPLACEMENTS[char])
        else:
            stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(stripped if stripped and all(c in _GSM_BASIC for c in stripped) else "?")
    return " ".join("".join(out).split())


def sms_text(summary: IncidentSummary, reason: str) -> str:
    """One SMS of at most 160 GSM characters: severity, title, reason, link. The title keeps at least
    24 characters: the link is dropped if it would leave less, then the reason is shortened, and the
    title takes the room that is left."""
    head = f"{gsm_safe(summary.severity.upper())}: "  # not "[...]": GSM's brackets cost two characters
    title = gsm_safe(summary.title)
    why = gsm_safe(reason)
    budget = SMS_MAX_CHARS - len(head)
    min_title = min(len(title), 24)
    link = f" {summary.url}"
    if min_title + len(link) > budget:
        link = ""
    tail = f" ({why})" if why else ""
    room = budget - min_title - len(link)
    if len(tail) > room:
        tail = f" ({_shorten(why, room - 3)})" if room >= 12 else ""
    return head + _shorten(title, budget - len(tail) - len(link)) + tail + link


def check_e164(number: object, *, field: str = "number") -> str:
    """The one phone number rule, for policy targets, preferences and the SMS sender alike: E.164,
    ``+`` then 7 to 15 digits (the first not 0), nothing else; surrounding spaces are dropped.
    SNS (and moto) accept nearly anything, so a bad number is refused here, when it is saved."""
    if (
        not isinstance(number, str)
        or len(number) > MAX_PHONE_INPUT_CHARS
        or not _E164.fullmatch(number.strip())
    ):
        raise InvalidInput("must be an E.164 phone number such as +15555550100", field=field)
    return number.strip()


# ---- Slack --------------------------------------------------------------------------------------


def slack_payload(summary: IncidentSummary, reason: str) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` for notifications, an attachment for the colour bar."""
    severity = summary.severity.upper()
    title = _slack_escape(_one_line(summary.title))
    link = f"<{_slack_escape(summary.url)}|{title}>"
    fields = [
        {"type": "mrkdwn", "text": f"*Severity*\n{_slack_escape(summary.severity)}"},
        {"type": "mrkdwn", "text": f"*Status*\n{_slack_escape(summary.status)}"},
        {"type": "mrkdwn", "text": f"*Service*\n{_slack_escape(summary.service_name or '-')}"},
        {
            "type": "mrkdwn",
            "text": f"*Opened*\n<!date^{summary.created_at}^{{date_short_pretty}} "
            f"{{time}}|{iso(summary.created_at)}>",
        },
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*[{severity}] {link}*"}},
        {"type": "section", "fields": fields},
    ]
    if summary.description.strip():
        description = _shorten(summary.description.strip(), SLACK_DESCRIPTION_MAX_CHARS)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(description)}})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(reason) or "Vigil"}]}
    )
    return {
        "text": f"[{severity}] {title} ({summary.status}): {_slack_escape(reason)}",
        "attachments": [{"color": _colour(summary), "fallback": f"[{severity}] {title}", "blocks": blocks}],
    }


# ---- webhooks -----------------------------------------------------------------------------------


def webhook_payload(
    summary: IncidentSummary, event: str, *, sent_at: int, delivery_id: str | None = None
) -> dict[str, Any]:
    """The JSON document a webhook receives; every key is always present.

    ``id`` names the delivery and is the same on every retry of it, so a receiver can drop a repeat.
    """
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    return {
        "id": delivery_id,
        "event": event,
        "sent_at": iso(sent_at),
        "incident": {
            "id": summary.incident_id,
            "org_id": summary.org_id,
            "title": summary.title,
            "description": summary.description,
            "severity": summary.severity,
            "status": summary.status,
            "service_id": summary.service_id,
            "service_name": summary.service_name,
            "created_at": iso(summary.created_at),
            "url": summary.url,
        },
    }


def webhook_secret(master_secret: str, org_id: str) -> str:
    """An org's webhook signing secret, derived from a master secret (no table to keep it in)."""
    return hmac.new(master_secret.encode(), b"webhook:" + org_id.encode(), hashlib.sha256).hexdigest()


def sign_webhook(body: bytes, *, secret: str, timestamp: int) -> str:
    """The ``X-Vigil-Signature`` value: ``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_webhook_signature(
    header: str, body: bytes, *, secret: str, now: int, tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does: parse ``t`` and every ``v1``, check the age, compare in constant time."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures or abs(now - timestamp) > tolerance_seconds:
        return False
    expected = sign_webhook(body, secret=secret, timestamp=timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


# ---- small pieces -------------------------------------------------------------------------------


def _colour(summary: IncidentSummary) -> str:
    if summary.status == "resolved":
        return RESOLVED_COLOUR
    return SEVERITY_COLOURS.get(summary.severity, SEVERITY_COLOURS["high"])


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn needs only these three escaped; the rest is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit <= 3:
        return text[: max(limit, 0)]
    return text[: limit - 3].rstrip() + "..."


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
