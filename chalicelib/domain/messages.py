"""The emails Vigil sends about accounts, as plain text and HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    # Extra headers (List-Unsubscribe...): SES's SendEmail cannot set them, so the mailer sends a
    # message that has any as raw MIME.
    headers: tuple[tuple[str, str], ...] = ()


def _html(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif">{body}</body></html>'


def verification_email(to: str, code: str, *, minutes: int) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject=f"Your Vigil verification code: {code}",
        text=(
            f"Your Vigil verification code is {code}\n\n"
            f"It expires in {minutes} minutes. If you did not sign up for Vigil, ignore this email.\n"
        ),
        html=_html(
            [
                f'Your Vigil verification code is <strong style="font-size:1.4em">{code}</strong>',
                f"It expires in {minutes} minutes. If you did not sign up for Vigil, ignore this email.",
            ]
        ),
    )


def password_reset_email(to: str, token: str, *, reset_url: str, minutes: int) -> EmailMessage:
    link = f"{reset_url}?token={token}"
    return EmailMessage(
        to=to,
        subject="Reset your Vigil password",
        text=(
            "Someone asked to reset the password of your Vigil account.\n\n"
            f"Reset token: {token}\n"
            f"Or open: {link}\n\n"
            f"The token works once and expires in {minutes} minutes. "
            "If it was not you, ignore this email: your password is unchanged.\n"
        ),
        html=_html(
            [
                "Someone asked to reset the password of your Vigil account.",
                f"Reset token: <code>{html.escape(token)}</code>",
                f'<a href="{html.escape(link)}">Choose a new password</a>',
                f"The token works once and expires in {minutes} minutes. "
                "If it was not you, ignore this email: your password is unchanged.",
            ]
        ),
    )


def invitation_email(to: str, *, org_name: str, inviter: str, role: str, signup_url: str) -> EmailMessage:
    return EmailMessage(
        to=to,
        subject=f"{inviter} invited you to {org_name} on Vigil",
        text=(
            f"{inviter} invited you to join {org_name} on Vigil as {role}.\n\n"
            f"Sign up with this email address to join: {signup_url}\n"
        ),
        html=_html(
            [
                f"{html.escape(inviter)} invited you to join <strong>{html.escape(org_name)}</strong> "
                f"on Vigil as {html.escape(role)}.",
                f'<a href="{html.escape(signup_url)}">Sign up with this email address</a> to join.',
            ]
        ),
    )
