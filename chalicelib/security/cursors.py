"""Opaque list cursors: DynamoDB's last key, signed so a tampered cursor is refused (400).

The HMAC also covers the list's scope ("members:<org_id>"), so a cursor taken
from one list or org cannot page through another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from chalicelib.domain.errors import InvalidInput

_TAG_BYTES = 16


def _tag(secret: str, scope: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_cursor(last_key: dict[str, Any], *, scope: str, secret: str) -> str:
    payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    token = payload + _tag(secret, scope, payload)
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(cursor: str, *, scope: str, secret: str) -> dict[str, Any]:
    invalid = InvalidInput("is not a valid cursor for this list", field="cursor")
    try:
        token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    payload, tag = token[:-_TAG_BYTES], token[-_TAG_BYTES:]
    if len(token) <= _TAG_BYTES or not hmac.compare_digest(tag, _tag(secret, scope, payload)):
        raise invalid
    try:
        key = json.loads(payload)
    except ValueError as exc:
        raise invalid from exc
    if not isinstance(key, dict):
        raise invalid
    return key
