"""One page of a DynamoDB Query, with an opaque cursor for the next one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pynamodb.pagination import ResultIterator

from chalicelib.adapters.secrets import jwt_secret
from chalicelib.security.cursors import decode_cursor, encode_cursor

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def map(self, fn: Callable[[T], Any]) -> Page[Any]:
        return Page(items=[fn(item) for item in self.items], next_cursor=self.next_cursor)


def start_key(cursor: str | None, *, scope: str) -> dict[str, Any] | None:
    return None if cursor is None else decode_cursor(cursor, scope=scope, secret=jwt_secret())


def fetch_page(
    query: Callable[..., ResultIterator[T]], *, limit: int, cursor: str | None, scope: str
) -> Page[T]:
    """Run ``query(limit=, last_evaluated_key=)`` and return ``limit`` items.

    One extra item is asked for, so a cursor is only returned when there is a next page.
    """
    results = query(limit=limit + 1, last_evaluated_key=start_key(cursor, scope=scope))
    items: list[T] = []
    iterator: Iterator[T] = results
    for item in iterator:
        items.append(item)
        if len(items) == limit:
            break
    if len(items) < limit:
        return Page(items=items, next_cursor=None)
    last_key = results.last_evaluated_key
    if last_key is None or next(iterator, None) is None:
        return Page(items=items, next_cursor=None)
    return Page(items=items, next_cursor=encode_cursor(last_key, scope=scope, secret=jwt_secret()))
