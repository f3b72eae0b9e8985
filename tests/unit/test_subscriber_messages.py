"""What status page subscribers receive: subjects, texts, links and the unsubscribe headers."""

import email
import email.policy

import pytest

from chalicelib.adapters.mailer import mime_bytes
from chalicelib.adapters.notification_queue import NoticeBatchKey, NotificationKey, parse_body
from chalicelib.domain.subscribers import (
    ONE_CLICK,
    PageLinks,
    already_subscribed_email,
    batches,
    confirmation_email,
    maintenance_notice,
    notice_email,
    notice_subject,
    page_html,
    post_notice,
    subscription_link,
    unsubscribe_headers,
)
from chalicelib.security.tokens import derived_token

LINKS = PageLinks(
    page_title="Acme Status",
    page_url="https://app.example.com/status/acme",
    unsubscribe_url="https://app.example.com/v1/status/acme/subscriptions/unsubscribe?token=T0k3n_-",
)
SECRET = "s" * 40


def test_links_carry_the_token_in_the_query_string():
    assert (
        subscription_link("https://app.example.com", "acme", "confirm", "a-b_c")
        == "https://app.example.com/v1/status/acme/subscriptions/confirm?token=a-b_c"
    )


def test_unsubscribe_headers_are_rfc_2369_and_8058():
    assert unsubscribe_headers(LINKS.unsubscribe_url) == (
        ("List-Unsubscribe", f"<{LINKS.unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    assert ONE_CLICK == "List-Unsubscribe=One-Click"


def test_every_email_carries_the_unsubscribe_link_in_body_and_headers():
    post = post_notice(post_id="p1", version=1, title="Down", status="investigating", message="Looking.")
    messages = [
        confirmation_email("a@example.com", links=LINKS, confirm_url="https://x/confirm?token=c", days=7),
        already_subscribed_email("a@example.com", links=LINKS),
        notice_email(post, to="a@example.com", links=LINKS),
    ]
    for message in messages:
        assert LINKS.unsubscribe_url in message.text
        assert "unsubscribe?token=T0k3n_-" in message.html
        assert dict(message.headers)["List-Unsubscribe"] == f"<{LINKS.unsubscribe_url}>"


def test_a_post_notice_says_the_status_title_and_message_and_links_the_page():
    post = post_notice(
        post_id="p1",
        version=2,
        title="API errors",
        status="identified",
        message="A bad deploy.\n\nRolled back.",
    )
    assert post.notice_id == "post:p1:v2"
    message = notice_email(post, to="a@example.com", links=LINKS)
    assert message.subject == "[Acme Status] Identified: API errors"
    assert message.text.startswith("Identified: API errors\n\nA bad deploy.\n\nRolled back.\n\n")
    assert "See the status page: https://app.example.com/status/acme" in message.text
    assert "<p>A bad deploy.</p><p>Rolled back.</p>" in message.html


def test_maintenance_notices_are_keyed_by_occurrence_and_phase():
    scheduled = maintenance_notice(window_id="w", title="Upgrade", starts_at=0, ends_at=3600, started=False)
    started = maintenance_notice(window_id="w", title="Upgrade", starts_at=0, ends_at=3600, started=True)
    assert scheduled.notice_id != started.notice_id
    assert notice_subject(started, "Acme") == "[Acme] Maintenance started: Upgrade"
    text = notice_email(scheduled, to="a@example.com", links=LINKS).text
    assert "From 1970-01-01 00:00 UTC to 1970-01-01 01:00 UTC." in text


def test_team_text_is_escaped_in_html_and_kept_on_one_line_in_the_subject():
    post = post_notice(
        post_id="p",
        version=1,
        title="<b>x</b>\r\nBcc: evil@example.com",
        status="monitoring",
        message="<script>",
    )
    message = notice_email(post, to="a@example.com", links=LINKS)
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "<b>x</b>" not in message.html


def test_the_raw_email_keeps_the_headers_readable_and_both_parts():
    post = post_notice(post_id="p", version=1, title="Café down", status="investigating", message="Ça va.")
    raw = mime_bytes(notice_email(post, to="a@example.com", links=LINKS), sender="Vigil <vigil@example.com>")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    # A long URL is not folded into RFC 2047 encoded words, which no mail client reads as a link.
    assert raw.decode().count(f"List-Unsubscribe: <{LINKS.unsubscribe_url}>") == 1
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(parsed["Subject"]) == "[Acme Status] Investigating: Café down"
    assert "Ça va." in parsed.get_body(("plain",)).get_content()
    assert "Ça va." in parsed.get_body(("html",)).get_content()


def test_unsubscribe_tokens_are_256_bits_only_the_server_can_compute():
    token = derived_token("unsubscribe", "sub-1", secret=SECRET)
    assert token == derived_token("unsubscribe", "sub-1", secret=SECRET)
    assert len(token) == 43  # 32 bytes, URL-safe base64 without padding
    assert token != derived_token("unsubscribe", "sub-2", secret=SECRET)
    assert token != derived_token("unsubscribe", "sub-1", secret="t" * 40)


def test_batches_split_recipients_for_queue_messages():
    assert batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert batches([], 50) == []


def test_the_unsubscribe_page_posts_to_itself_and_escapes_titles():
    page = page_html("Unsubscribe from <Acme>", ["Stop?"], unsubscribe_button=True)
    assert '<form method="post">' in page and "<button" in page
    assert "&lt;Acme&gt;" in page
    assert "<form" not in page_html("Unsubscribed", ["Done."])


def test_a_queue_message_names_a_notice_batch_or_a_notification():
    key = NoticeBatchKey("org#page", "notice#post:p:v1#0000")
    assert parse_body(key.body()) == key
    assert parse_body(NotificationKey("org#inc", "n1").body()) == NotificationKey("org#inc", "n1")
    with pytest.raises(ValueError):
        parse_body('{"notice_batch": "x"}')
