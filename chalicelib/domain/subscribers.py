"""Email subscribers of a public status page, pure: the notices, the emails and their headers.

A subscriber asks with their address, confirms with the link of the email that answers (double
opt-in), and from then on gets one email per notice: a post created or updated, a maintenance
scheduled or starting on the page. Every email carries a one-click unsubscribe link in its body and
in the ``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (RFC 2369, RFC 8058), which Gmail and
Yahoo require of bulk senders.

Only what the team wrote for the public reaches an email: the page's title, the post's title and
message, the maintenance's title and times. No incident text, no URL but the page's own and the
links, no member name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar
from urllib.parse import quote, urlencode

from chalicelib.domain.messages import EmailMessage

# Subscription emails (confirmation links) that one address can be sent in an hour, whatever the
# page, and that one page can send in an hour: nobody can bomb an inbox or burn the SES reputation
# through an answer that is always 202.
EMAILS_PER_ADDRESS_PER_HOUR = 5
EMAILS_PER_PAGE_PER_HOUR = 100
HOUR = 3600
CONFIRM_TOKEN_TTL_SECONDS = 7 * 86400  # a pending subscription and its confirm link are forgotten then
# After an unsubscribe, its link keeps answering "unsubscribed" this long (mail clients repeat the POST).
UNSUBSCRIBED_LINK_TTL_SECONDS = 30 * 86400
# Subscribers per queue message: one message is one Lambda's share of a notice (SES sends in ~50 ms).
RECIPIENTS_PER_BATCH = 50
NOTICE_RECORD_TTL_SECONDS = 30 * 86400  # a notice's batch records, kept to spot a replay
MESSAGE_MAX_CHARS = 10_000  # the API's limit on a post's message
TOKEN_MAX_CHARS = 128  # the links' tokens are 43 characters; anything longer names nothing

ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058's List-Unsubscribe-Post value (and POST body)


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # asked, not confirmed: gets nothing but the confirmation email
    CONFIRMED = "confirmed"


class NoticeKind(StrEnum):
    POST = "post"
    MAINTENANCE_SCHEDULED = "maintenance_scheduled"
    MAINTENANCE_STARTED = "maintenance_started"


_POST_STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}


@dataclass(frozen=True)
class Notice:
    """One thing to tell the subscribers of a page, with an id that is the same on every replay."""

    notice_id: str
    kind: NoticeKind
    title: str
    message: str = ""
    status: str | None = None  # a post's status (investigating ... resolved)
    starts_at: int | None = None  # a maintenance's occurrence, epoch seconds
    ends_at: int | None = None


def post_notice(*, post_id: str, version: int, title: str, status: str, message: str) -> Notice:
    """A post created (version 1) or updated (each later version): each version is told once."""
    return Notice(
        notice_id=f"post:{post_id}:v{int(version)}",
        kind=NoticeKind.POST,
        title=title,
        message=message,
        status=status,
    )


def maintenance_notice(*, window_id: str, title: str, starts_at: int, ends_at: int, started: bool) -> Notice:
    """A maintenance occurrence scheduled, or starting: each (occurrence, phase) is told once."""
    kind = NoticeKind.MAINTENANCE_STARTED if started else NoticeKind.MAINTENANCE_SCHEDULED
    return Notice(
        notice_id=f"maintenance:{window_id}:{int(starts_at)}:{kind.value}",
        kind=kind,
        title=title,
        starts_at=int(starts_at),
        ends_at=int(ends_at),
    )


@dataclass(frozen=True)
class PageLinks:
    """Where a page and one subscription's links are, as absolute URLs."""

    page_title: str
    page_url: str  # the public page, e.g. https://app.example.com/status/acme
    unsubscribe_url: str


def subscription_link(public_url: str, slug: str, action: str, token: str) -> str:
    """``{public_url}/v1/status/{slug}/subscriptions/{action}?token=...`` (action: confirm, unsubscribe)."""
    query = urlencode({"token": token})
    return f"{public_url}/v1/status/{quote(slug, safe='')}/subscriptions/{action}?{query}"


def page_url(public_url: str, slug: str) -> str:
    return f"{public_url}/status/{quote(slug, safe='')}"


def unsubscribe_headers(unsubscribe_url: str) -> tuple[tuple[str, str], ...]:
    """RFC 2369's List-Unsubscribe with RFC 8058's one-click POST: a mail client's "Unsubscribe"
    button POSTs ``List-Unsubscribe=One-Click`` to the URL, with no page in between."""
    return (("List-Unsubscribe", f"<{unsubscribe_url}>"), ("List-Unsubscribe-Post", ONE_CLICK))


def one_line(text: str, limit: int = 200) -> str:
    """A header-safe line: whitespace (newlines included) collapsed, at most ``limit`` characters."""
    line = re.sub(r"\s+", " ", text).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _when(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _footer(links: PageLinks) -> tuple[str, str]:
    text = (
        f"You get this email because you subscribed to updates of {links.page_title}.\n"
        f"Unsubscribe: {links.unsubscribe_url}\n"
    )
    markup = (
        '<p style="color:#666;font-size:0.9em">You get this email because you subscribed to updates of '
        f"{html.escape(links.page_title)}. "
        f'<a href="{html.escape(links.unsubscribe_url)}">Unsubscribe</a></p>'
    )
    return text, markup


def _document(paragraphs: Sequence[str], footer: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif">{body}{footer}</body></html>'


def _paragraphs(text: str) -> list[str]:
    """Plain text as HTML paragraphs (escaped; single newlines kept as line breaks)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return [html.escape(b).replace("\n", "<br>") for b in blocks]


def confirmation_email(to: str, *, links: PageLinks, confirm_url: str, days: int) -> EmailMessage:
    title = one_line(links.page_title)
    footer_text, footer_html = _footer(links)
    return EmailMessage(
        to=to,
        subject=f"Confirm your subscription to {title}",
        text=(
            f"Someone (hopefully you) asked to get email updates from {title} ({links.page_url}).\n\n"
            f"Confirm your subscription: {confirm_url}\n\n"
            f"The link works for {days} days. If it was not you, ignore this email: "
            "you will get nothing else.\n\n" + footer_text
        ),
        html=_document(
            [
                f"Someone (hopefully you) asked to get email updates from "
                f'<a href="{html.escape(links.page_url)}">{html.escape(title)}</a>.',
                f'<a href="{html.escape(confirm_url)}">Confirm your subscription</a>',
                f"The link works for {days} days. If it was not you, ignore this email: "
                "you will get nothing else.",
            ],
            footer_html,
        ),
        headers=unsubscribe_headers(links.unsubscribe_url),
    )


def already_subscribed_email(to: str, *, links: PageLinks) -> EmailMessage:
    """The answer to a subscribe request for an address that is confirmed already: the request
    answers the same either way, and the owner learns where to unsubscribe."""
    title = one_line(links.page_title)
    footer_text, footer_html = _footer(links)
    return EmailMessage(
        to=to,
        subject=f"You are subscribed to {title}",
        text=(
            f"Someone asked to subscribe this address to {title} ({links.page_url}); "
            "it is subscribed already, so nothing changed.\n\n" + footer_text
        ),
        html=_document(
            [
                f'Someone asked to subscribe this address to <a href="{html.escape(links.page_url)}">'
                f"{html.escape(title)}</a>; it is subscribed already, so nothing changed."
            ],
            footer_html,
        ),
        headers=unsubscribe_headers(links.unsubscribe_url),
    )


def notice_subject(notice: Notice, page_title: str) -> str:
    page = one_line(page_title, 100)
    title = one_line(notice.title, 150)
    if notice.kind is NoticeKind.POST:
        label = _POST_STATUS_LABELS.get(notice.status or "", (notice.status or "Update").title())
        return f"[{page}] {label}: {title}"
    if notice.kind is NoticeKind.MAINTENANCE_STARTED:
        return f"[{page}] Maintenance started: {title}"
    return f"[{page}] Maintenance scheduled: {title}"


def _notice_lines(notice: Notice) -> list[str]:
    """The notice's own text, as plain-text paragraphs."""
    if notice.kind is NoticeKind.POST:
        label = _POST_STATUS_LABELS.get(notice.status or "", (notice.status or "").title())
        lines = [f"{label}: {notice.title}"] if label else [notice.title]
        message = notice.message[:MESSAGE_MAX_CHARS].strip()
        return [*lines, message] if message else lines
    when = ""
    if notice.starts_at is not None and notice.ends_at is not None:
        when = f"From {_when(notice.starts_at)} to {_when(notice.ends_at)}."
    head = "Maintenance started" if notice.kind is NoticeKind.MAINTENANCE_STARTED else "Maintenance scheduled"
    return [f"{head}: {notice.title}", *([when] if when else [])]


def notice_email(notice: Notice, *, to: str, links: PageLinks) -> EmailMessage:
    lines = _notice_lines(notice)
    footer_text, footer_html = _footer(links)
    view = f"See the status page: {links.page_url}"
    return EmailMessage(
        to=to,
        subject=notice_subject(notice, links.page_title),
        text="\n\n".join([*lines, view]) + "\n\n" + footer_text,
        html=_document(
            [
                f"<strong>{html.escape(lines[0])}</strong>",
                *[p for line in lines[1:] for p in _paragraphs(line)],
                f'<a href="{html.escape(links.page_url)}">See the status page</a>',
            ],
            footer_html,
        ),
        headers=unsubscribe_headers(links.unsubscribe_url),
    )


T = TypeVar("T")


def batches(items: Sequence[T], size: int = RECIPIENTS_PER_BATCH) -> list[list[T]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def page_html(title: str, paragraphs: Sequence[str], *, unsubscribe_button: bool = False) -> str:
    """The small page a confirm or unsubscribe link opens (readable without JavaScript, 375 px wide,
    dark mode). ``paragraphs`` are plain text. ``unsubscribe_button`` adds a form that POSTs to the
    page's own address (token included): a GET never unsubscribes, since mail scanners open links."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if unsubscribe_button:
        body += (
            '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}button{font:inherit;padding:.5rem 1rem}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
