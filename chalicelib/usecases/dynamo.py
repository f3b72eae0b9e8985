"""Small pieces every use case needs around PynamoDB's conditional writes."""

from __future__ import annotations

import functools
import threading
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib.settings import settings


@functools.cache
def transaction_connection() -> Connection:
    return Connection(region=settings.region)


@functools.cache
def one_client_per_connection() -> None:
    """Make PynamoDB create each model's botocore client once, however many threads first use the
    model at the same moment. Unguarded, each of them creates one, with a botocore session of its own
    that its thread keeps (about 10 MB each): a checker reading and recording on 12 threads held 19
    sessions and 265 MB. Called before work fans out to threads; once per process."""
    unguarded = vars(Connection)["client"].fget
    assert unguarded is not None
    lock = threading.Lock()

    def client(self: Connection) -> Any:
        with lock:  # a few hundred nanoseconds once the client exists
            return unguarded(self)

    Connection.client = property(client)  # type: ignore[method-assign,assignment]


def condition_failed(exc: PynamoDBException, *, index: int | None = None) -> bool:
    """True when a write lost its condition (for a transaction: any item, or the item at ``index``)."""
    if isinstance(exc, TransactWriteError):
        reasons = exc.cancellation_reasons or []
        if index is not None:
            reasons = reasons[index : index + 1]
        return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)
    return exc.cause_response_code == "ConditionalCheckFailedException"
