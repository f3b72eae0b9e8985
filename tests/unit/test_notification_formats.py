"""What a notification says on each channel, webhook signatures and phone numbers (no AWS)."""

import hashlib
import hmac
import json

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.notifications import (
    IncidentSummary,
    check_e164,
    email_message,
    gsm_safe,
    incident_url,
    notification_id,
    sign_webhook,
    slack_payload,
    sms_text,
    verify_webhook_signature,
    webhook_event,
    webhook_payload,
    webhook_secret,
)

ORG = "01J0ZK7Q8M6X3V2T9N4R5S6W7A"
INCIDENT = "01J0ZK7Q8M6X3V2T9N4R5S6W7B"
URL = incident_url("http://127.0.0.1:8000/", ORG, INCIDENT)


def summary(**changes):
    fields = {
        "org_id": ORG,
        "incident_id": INCIDENT,
        "title": "Checkout API is down",
        "description": "https://shop.example.com/health failed its checks: status 503",
        "severity": "critical",
        "status": "open",
        "service_name": "Checkout API",
        "url": URL,
        "created_at": 1_718_000_000,
        "service_id": "01J0ZK7Q8M6X3V2T9N4R5S6W7C",
    }
    return IncidentSummary(**{**fields, **changes})


GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


# ---- email --------------------------------------------------------------------------------------


def test_the_email_subject_names_severity_and_title():
    message = email_message(summary(), to="ada@example.com", reason="escalation step 2")
    assert message.to == "ada@example.com"
    assert message.subject == "[CRITICAL] Checkout API is down"


def test_the_email_says_why_and_links_to_the_incident_in_text_and_html():
    message = email_message(summary(), to="ada@example.com", reason="escalation step 2")
    for body in (message.text, message.html):
        assert "escalation step 2" in body
        assert URL in body
        assert "Checkout API" in body
        assert "status 503" in body
    assert f'href="{URL}"' in message.html


def test_the_email_subject_says_when_the_incident_is_no_longer_open():
    message = email_message(summary(status="resolved"), to="a@example.com", reason="resolved by Ada")
    assert message.subject == "[CRITICAL] Resolved: Checkout API is down"


def test_the_email_escapes_html_and_keeps_the_subject_on_one_line():
    message = email_message(
        summary(title="<script>x</script>\r\nBcc: evil@example.com", description="a < b & c"),
        to="a@example.com",
        reason="escalation step 0",
    )
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "a &lt; b &amp; c" in message.html
    assert "\n" not in message.subject and "\r" not in message.subject


# ---- SMS ----------------------------------------------------------------------------------------


def test_an_sms_carries_severity_title_reason_and_link():
    text = sms_text(summary(), "escalation step 2")
    assert text == f"CRITICAL: Checkout API is down (escalation step 2) {URL}"
    assert len(text) <= 160


@pytest.mark.parametrize(
    "title, reason",
    [
        ("x" * 400, "escalation step 2"),
        ("Checkout API is down", "r" * 400),
        ("t" * 400, "r" * 400),
        ("", ""),
        ("Zahlungsdienst ausgefallen — “Fehler” [prod] {eu} ~ | € 🚨 ½ ç", "acknowledged by Zoë"),
    ],
)
def test_an_sms_fits_one_gsm_message_whatever_it_is_given(title, reason):
    text = sms_text(summary(title=title), reason)
    assert len(text) <= 160
    assert set(text) <= GSM_BASIC


def test_a_long_title_is_shortened_but_keeps_the_reason_and_the_link():
    text = sms_text(summary(title="Very long title " * 20), "escalation step 2")
    assert len(text) == 160
    assert "..." in text
    assert "(escalation step 2)" in text
    assert text.endswith(URL)


def test_an_sms_without_room_for_the_link_drops_it_rather_than_the_title():
    long_url = "https://vigil.example.com/" + "p" * 150
    text = sms_text(summary(url=long_url, title="Checkout API is down"), "escalation step 2")
    assert "Checkout API is down" in text
    assert long_url not in text


def test_gsm_safe_replaces_what_would_switch_an_sms_to_unicode():
    assert gsm_safe("“Fehler” — [prod] {eu} ~ € café") == '"Fehler" - (prod) (eu) - EUR café'
    assert gsm_safe("naïve ç 🚨") == "naive c ?"
    assert gsm_safe("line one\nline two\t end") == "line one line two end"


@pytest.mark.parametrize(
    "raw, number",
    [
        ("+15555550100", "+15555550100"),
        (" +442079460958 ", "+442079460958"),
        ("+4930123", "+4930123"),  # 7 digits, the fewest the sender takes
    ],
)
def test_e164_numbers_are_accepted_and_normalized(raw, number):
    assert check_e164(raw) == number


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "15555550100",
        "+0155555501",
        "+1555",
        "+1234",  # a policy took this before issue 9; the sender never did
        "+1234567890123456",
        "+1555abc0100",
        "++15555550100",
        "tel:+1",
        # One rule for saving and sending: separators are refused when saved (E.164 has none).
        "+1 (555) 555-0100",
        "+49.30.1234567",
        # The request schema allows 32 characters; schemathesis sent more spaces than that (a 201).
        " +1000000" + " " * 24,
    ],
)
def test_anything_else_is_not_a_phone_number(raw):
    with pytest.raises(InvalidInput, match=r"E\.164"):
        check_e164(raw)


# ---- Slack --------------------------------------------------------------------------------------


def test_a_slack_message_has_text_and_a_coloured_attachment_with_the_facts():
    payload = slack_payload(summary(), "escalation step 2")
    assert "Checkout API is down" in payload["text"]
    assert "escalation step 2" in payload["text"]
    (attachment,) = payload["attachments"]
    assert attachment["color"] == "#D92D20"
    rendered = json.dumps(attachment["blocks"])
    assert f"<{URL}|Checkout API is down>" in rendered
    for fact in ("critical", "open", "Checkout API", "escalation step 2"):
        assert fact in rendered


@pytest.mark.parametrize(
    "severity, status, colour",
    [("critical", "open", "#D92D20"), ("high", "open", "#F79009"), ("low", "acknowledged", "#2E90FA")],
)
def test_the_slack_colour_follows_severity_and_is_green_once_resolved(severity, status, colour):
    assert slack_payload(summary(severity=severity, status=status), "x")["attachments"][0]["color"] == colour
    assert slack_payload(summary(severity=severity, status="resolved"), "x")["attachments"][0]["color"] == (
        "#12B76A"
    )


def test_slack_control_characters_in_titles_are_escaped():
    payload = slack_payload(summary(title="<!channel> a & b"), "step 0")
    assert "<!channel>" not in json.dumps(payload)
    assert "&lt;!channel&gt; a &amp; b" in payload["text"]


# ---- webhooks -----------------------------------------------------------------------------------


def test_the_webhook_document_is_stable_and_api_like():
    payload = webhook_payload(summary(), "incident.triggered", sent_at=1_718_000_060, delivery_id="dlv_1")
    assert payload == {
        "id": "dlv_1",
        "event": "incident.triggered",
        "sent_at": "2024-06-10T06:14:20Z",
        "incident": {
            "id": INCIDENT,
            "org_id": ORG,
            "title": "Checkout API is down",
            "description": "https://shop.example.com/health failed its checks: status 503",
            "severity": "critical",
            "status": "open",
            "service_id": "01J0ZK7Q8M6X3V2T9N4R5S6W7C",
            "service_name": "Checkout API",
            "created_at": "2024-06-10T06:13:20Z",
            "url": URL,
        },
    }


def test_unknown_webhook_events_are_refused():
    with pytest.raises(ValueError):
        webhook_payload(summary(), "incident.exploded", sent_at=0)


@pytest.mark.parametrize(
    "kind, step, loop, event",
    [
        ("escalation", 0, 0, "incident.triggered"),
        ("escalation", 1, 0, "incident.escalated"),
        ("escalation", 0, 1, "incident.escalated"),
        ("acknowledged", 3, 0, "incident.acknowledged"),
        ("resolved", 4, 0, "incident.resolved"),
    ],
)
def test_the_webhook_event_follows_the_notification_kind(kind, step, loop, event):
    assert webhook_event(kind, step=step, loop=loop) == event


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"event":"incident.triggered"}'
    header = sign_webhook(body, secret="s3cret", timestamp=1_718_000_000)
    expected = hmac.new(b"s3cret", b"1718000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1718000000,v1={expected}"


def test_a_signature_verifies_and_breaks_when_body_timestamp_or_secret_change():
    body = b'{"event":"incident.triggered","incident":{"id":"1"}}'
    header = sign_webhook(body, secret="s3cret", timestamp=1_718_000_000)
    assert verify_webhook_signature(header, body, secret="s3cret", now=1_718_000_010)
    assert not verify_webhook_signature(header, body + b" ", secret="s3cret", now=1_718_000_010)
    assert not verify_webhook_signature(header, body, secret="other", now=1_718_000_010)
    moved = header.replace("t=1718000000", "t=1718000001")
    assert not verify_webhook_signature(moved, body, secret="s3cret", now=1_718_000_010)
    assert not verify_webhook_signature(header, body, secret="s3cret", now=1_718_000_000 + 301)
    assert not verify_webhook_signature("v1=abc", body, secret="s3cret", now=1_718_000_000)


def test_each_org_has_its_own_webhook_secret():
    assert webhook_secret("master", "org-a") != webhook_secret("master", "org-b")
    assert webhook_secret("master", "org-a") == webhook_secret("master", "org-a")
    assert webhook_secret("master", "org-a") != webhook_secret("other", "org-a")


# ---- ids ----------------------------------------------------------------------------------------


def test_notification_ids_are_deterministic_per_step_loop_channel_and_target():
    first = notification_id(kind="escalation", step=2, loop=1, channel="email", target="Ada@Example.com")
    assert first == notification_id(
        kind="escalation", step=2, loop=1, channel="email", target="ada@example.com"
    )
    assert first.startswith("002#01#email#")
    others = {
        notification_id(kind="escalation", step=3, loop=1, channel="email", target="ada@example.com"),
        notification_id(kind="escalation", step=2, loop=0, channel="email", target="ada@example.com"),
        notification_id(kind="escalation", step=2, loop=1, channel="email", target="bob@example.com"),
        notification_id(kind="acknowledged", step=2, loop=1, channel="email", target="ada@example.com"),
    }
    assert first not in others and len(others) == 4
    assert notification_id(kind="resolved", step=7, loop=0, channel="sms", target="+1 555 555 0100") == (
        notification_id(kind="resolved", step=7, loop=0, channel="sms", target="+15555550100")
    )


def test_unknown_kinds_and_channels_have_no_id():
    with pytest.raises(ValueError):
        notification_id(kind="party", step=0, loop=0, channel="email", target="a@example.com")
    with pytest.raises(ValueError):
        notification_id(kind="escalation", step=0, loop=0, channel="pigeon", target="a@example.com")


def test_a_summary_survives_its_snapshot():
    original = summary(service_name=None, service_id=None)
    stored = {k: v for k, v in original.to_dict().items() if v is not None}
    assert IncidentSummary.from_dict(stored) == original
