"""moto's DynamoDB, made safe for the threads of the local stack.

ThreadedMotoServer serves each request in a thread of its own, and moto's DynamoDB backend is not
written for that: TransactWriteItems deep-copies every table it touches before writing (a copy that
raises "dictionary changed size during iteration" when another request writes meanwhile) and, when
one condition fails, puts those copies back, undoing whatever other requests wrote in between. Scans
and queries iterate the same dictionaries. One re-entrant lock around every operation of the backend
makes each request atomic, as DynamoDB's are; moto is bound by the GIL anyway, so little is lost.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_MARK = "_vigil_serialized"


def serialize_dynamodb() -> None:
    """Wrap each method of moto's DynamoDB backend in one lock (once per process; idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, _MARK, False):
        return
    for name, member in list(vars(DynamoDBBackend).items()):
        if inspect.isfunction(member) and not name.startswith("__"):
            setattr(DynamoDBBackend, name, _locked(member))
    setattr(DynamoDBBackend, _MARK, True)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def serialized(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return serialized
