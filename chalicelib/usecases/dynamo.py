"""Small pieces every use case needs around PynamoDB's conditional writes."""

from __future__ import annotations

import functools

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib.settings import settings


@functools.cache
def transaction_connection() -> Connection:
    return Connection(region=settings.region)


def condition_failed(exc: PynamoDBException, *, index: int | None = None) -> bool:
    """True when a write lost its condition (for a transaction: any item, or the item at ``index``)."""
    if isinstance(exc, TransactWriteError):
        reasons = exc.cancellation_reasons or []
        if index is not None:
            reasons = reasons[index : index + 1]
        return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)
    return exc.cause_response_code == "ConditionalCheckFailedException"
