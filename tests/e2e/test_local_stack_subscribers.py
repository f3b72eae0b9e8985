"""Status page subscribers on the local stack: a customer subscribes, confirms from the email, gets
the next post by email (through the queue and the event pump) and unsubscribes with one click, all
through the links as a mail client would follow them (the web origin, as CloudFront on AWS)."""

import email
import email.policy
import re
import uuid

import requests

from tests.e2e.conftest import wait_for

LINK = r"https?://\S+/v1/status/[a-z0-9-]+/subscriptions/{}\?token=[\w-]+"


def raw_emails_to(stack, address: str) -> list[email.message.EmailMessage]:
    for _ in range(5):  # see LocalStack.emails_to
        reply = requests.get(f"{stack.aws_url}/moto-api/data.json", timeout=10)
        if reply.status_code == 200:
            break
    messages = [
        email.message_from_string(m["raw_data"], policy=email.policy.default)
        for m in reply.json()["ses"].get("RawMessage", [])
    ]
    return [m for m in messages if m["To"] == address]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_subscriber_confirms_gets_the_next_post_and_unsubscribes_with_one_click(local_stack):
    me = local_stack.account()
    base = f"/v1/orgs/{me['org_id']}"
    service = requests.post(
        local_stack.url(f"{base}/services"),
        json={"name": "Checkout", "url": local_stack.url("/health"), "enabled": False},
        headers=me["auth"],
        timeout=10,
    ).json()
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    page = requests.post(
        local_stack.url(f"{base}/status-pages"),
        json={
            "slug": slug,
            "title": "E2E Status",
            "components": [{"name": "Checkout", "service_id": service["id"]}],
        },
        headers=me["auth"],
        timeout=10,
    ).json()
    fan = f"fan-{uuid.uuid4().hex[:8]}@example.com"

    subscribed = requests.post(
        f"{local_stack.web_url}/v1/status/{slug}/subscribe", json={"email": fan}, timeout=10
    )
    assert subscribed.status_code == 202
    [confirmation] = wait_for(
        lambda: raw_emails_to(local_stack, fan), seconds=10, what="the confirmation email"
    )
    confirm = re.search(LINK.format("confirm"), text_of(confirmation)).group(0)
    assert confirm.startswith(local_stack.web_url)
    opened = requests.get(confirm, timeout=10)
    assert opened.status_code == 200 and "Subscription confirmed" in opened.text

    post = requests.post(
        local_stack.url(f"{base}/status-pages/{page['id']}/posts"),
        json={"title": "Checkout is slow", "status": "investigating", "message": "We are on it."},
        headers=me["auth"],
        timeout=10,
    )
    assert post.status_code == 201, post.text

    def notices():
        return [m for m in raw_emails_to(local_stack, fan) if "Checkout is slow" in str(m["Subject"])]

    [notice] = wait_for(notices, seconds=20, what="the post's email")
    assert "We are on it." in text_of(notice)
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(.+)>", str(notice["List-Unsubscribe"])).group(1)

    # What Gmail's Unsubscribe button does (RFC 8058).
    one_click = requests.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert one_click.status_code == 200 and "Unsubscribed" in one_click.text
    counts = requests.get(
        local_stack.url(f"{base}/status-pages/{page['id']}/subscribers"), headers=me["auth"], timeout=10
    ).json()
    assert counts == {"count": 0, "confirmed": 0, "pending": 0}
