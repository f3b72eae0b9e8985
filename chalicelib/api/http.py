"""HTTP plumbing shared by every blueprint: routes that document themselves, body and query
parsing with messages that name the field, and errors in Chalice's shape.

Chalice turns any exception a view raises into a 500 before middleware sees it, so the
translation of our errors into status codes happens here, around each view. pydantic is imported
by the first body parsed, not here: a route names its models, kept in its blueprint's schema
module (docs/architecture.md, "What a cold start imports").
"""

from __future__ import annotations

import functools
import html
import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.domain.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Throttled,
    Unavailable,
    VigilError,
)
from chalicelib.settings import settings

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

logger = Logger(service="vigil", child=True, level=settings.log_level)

MAX_BODY_BYTES = 256 * 1024
# Deeper JSON is refused (400): Python's parser overflows its stack near 1,000 levels, and DynamoDB
# stores at most 32 levels of nested maps and lists (an alert's details are kept as they came).
MAX_JSON_DEPTH = 32
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Clients forget Content-Type; the body is read as JSON whatever it says, and refused (400) if it is not.
ACCEPTED_CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]
# Ids are opaque; anything else cannot name a record (and DynamoDB refuses an empty key).
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID = re.compile(ID_PATTERN)
MAX_CURSOR_CHARS = 2048
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_CURSOR_CHARS}}}$"  # unpadded base64url, as encode_cursor writes it
_CURSOR = re.compile(CURSOR_PATTERN)
_NAMED = re.compile(r"^[a-z_][a-z0-9_.]*: ")

M = TypeVar("M", bound="BaseModel")


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    schema: dict[str, Any]


PAGE_PARAMS = (
    QueryParam(
        "limit", "Page size (1-100).", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}
    ),
    QueryParam(
        "cursor",
        "The `next_cursor` of the previous page of the same list, unchanged (it is signed: any other "
        "value is 400).",
        {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR_CHARS, "pattern": CURSOR_PATTERN},
    ),
)


@dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI document says of a route; attached to its view function."""

    summary: str
    status: int
    body: str | None  # a model's name in ``schemas``, as response
    body_required: bool
    response: str | None
    auth: bool
    tags: tuple[str, ...]
    query: tuple[QueryParam, ...] = field(default_factory=tuple)
    errors: tuple[int, ...] = field(default_factory=tuple)
    text: bool = False  # answers text/plain (the ping routes), errors included
    # A success body of this type (a string: Atom, SVG, an HTML page). Errors stay JSON, except on
    # text/html routes, whose errors are pages too (a person opened a link).
    media_type: str | None = None
    schemas: str | None = None  # the module of the blueprint's models, imported when they are needed

    def model(self, name: str) -> type[BaseModel]:
        """The model ``name`` of the route's schema module; a LookupError when it has none."""
        from pydantic import BaseModel

        module = importlib.import_module(self.schemas) if self.schemas else None
        model = getattr(module, name, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise LookupError(f"{self.schemas} has no model {name!r} ({self.summary!r} names it)")
        return model


def error_response(error: VigilError) -> Response:
    headers: dict[str, str | list[str]] = {}
    if isinstance(error, Throttled | Unavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return Response(
        body={"Code": error.code, "Message": error.message}, status_code=error.status_code, headers=headers
    )


def _html_error(error: VigilError) -> Response:
    page = f"<!doctype html><title>{error.status_code}</title><p>{html.escape(error.message)}</p>"
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8"}
    if isinstance(error, Throttled | Unavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return Response(body=page, status_code=error.status_code, headers=headers)


class VigilBlueprint(Blueprint):
    """A Blueprint whose routes document themselves and answer our errors with their status codes.

    A route names its request and response models (``body="ServiceIn"``), which live in
    ``schemas``, the blueprint's schema module: the OpenAPI document imports it, as a view does when
    it parses a body, so a cold start loads no model and no pydantic."""

    def __init__(self, import_name: str, *, schemas: str | None = None) -> None:
        super().__init__(import_name)
        self.schemas = schemas

    def route(  # type: ignore[override]
        self,
        path: str,
        *,
        methods: tuple[str, ...] = ("GET",),
        summary: str,
        status: int = 200,
        body: str | None = None,
        body_required: bool = True,
        response: str | None = None,
        auth: bool = True,
        tags: tuple[str, ...] = (),
        query: tuple[QueryParam, ...] = (),
        errors: tuple[int, ...] = (),
        text: bool = False,
        media_type: str | None = None,
        **chalice_options: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        chalice_options.setdefault("content_types", ACCEPTED_CONTENT_TYPES)
        if (body or response) and self.schemas is None:
            raise ValueError(f"{path}: a route naming models needs its blueprint's schemas module")
        doc = RouteDoc(
            summary=summary,
            status=status,
            body=body,
            body_required=body is not None and body_required,
            response=response,
            auth=auth,
            tags=tags,
            query=query,
            errors=errors,
            text=text,
            media_type=media_type,
            schemas=self.schemas,
        )

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def answer(**path_params: str) -> Response:
                try:
                    _refuse_large_body(self.current_request)
                    if doc.body_required and not _raw_body(self.current_request).strip():
                        raise InvalidInput("is required", field="body")
                    result = view(**path_params)
                except VigilError as error:
                    if error.status_code >= 500:
                        logger.warning("request refused", extra={"error": error.message})
                    if doc.text:
                        return Response(
                            body=error.message,
                            status_code=error.status_code,
                            headers={"Content-Type": "text/plain"},
                        )
                    if doc.media_type == "text/html":
                        return _html_error(error)
                    return error_response(error)
                if isinstance(result, Response):
                    return result
                if result is None:
                    return Response(body="", status_code=status)
                return Response(body=result, status_code=status)

            answer.__vigil_route__ = doc  # type: ignore[attr-defined]
            super(VigilBlueprint, self).route(path, methods=list(methods), **chalice_options)(answer)
            return answer

        return decorator


def _raw_body(request: Request) -> bytes:
    raw = request.raw_body or b""
    return raw.encode("utf-8") if isinstance(raw, str) else raw


def _refuse_large_body(request: Request) -> None:
    if len(_raw_body(request)) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body: must be at most {MAX_BODY_BYTES // 1024} KiB")


def parse_body(request: Request, model: type[M]) -> M:
    """The request body as ``model``, or a 400 whose message names the offending field."""
    from pydantic import ValidationError  # loaded by the first body parsed, not at a cold start

    document = json_body(request, empty={})
    if not isinstance(document, dict):
        raise InvalidInput("must be a JSON object", field="body")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, document)) from exc


def json_body(request: Request, *, empty: Any = None) -> Any:
    """The request body decoded from JSON, whatever its type (``empty`` when there is none);
    a 400 when it is not JSON. Its size was checked by the route (VigilBlueprint) already."""
    raw = _raw_body(request)
    if not raw.strip():
        return empty
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("is not valid JSON", field="body") from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    if json_depth(document) > MAX_JSON_DEPTH:
        raise _too_deep()
    return document


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"must not nest arrays and objects more than {MAX_JSON_DEPTH} levels deep", field="body"
    )


def json_depth(document: Any) -> int:
    """How deeply arrays and objects nest in a decoded JSON document (a scalar is 0); no recursion,
    so no document can overflow the stack here."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda ctx: "is required",
    "extra_forbidden": lambda ctx: "is not an accepted field",
    "string_type": lambda ctx: "must be a string",
    "string_too_short": lambda ctx: (
        "must not be empty"
        if ctx.get("min_length") == 1
        else f"must be at least {ctx.get('min_length')} characters"
    ),
    "string_too_long": lambda ctx: f"must be at most {ctx.get('max_length')} characters",
    "string_pattern_mismatch": lambda ctx: "has an invalid format",
    "literal_error": lambda ctx: f"must be one of {ctx.get('expected')}",
    "enum": lambda ctx: f"must be one of {ctx.get('expected')}",
    "bool_type": lambda ctx: "must be true or false",
    "bool_parsing": lambda ctx: "must be true or false",
    "int_type": lambda ctx: "must be an integer",
    "int_parsing": lambda ctx: "must be an integer",
    "int_from_float": lambda ctx: "must be an integer",
    "float_type": lambda ctx: "must be a number",
    "greater_than_equal": lambda ctx: f"must be at least {ctx.get('ge')}",
    "less_than_equal": lambda ctx: f"must be at most {ctx.get('le')}",
    "greater_than": lambda ctx: f"must be greater than {ctx.get('gt')}",
    "less_than": lambda ctx: f"must be less than {ctx.get('lt')}",
    "list_type": lambda ctx: "must be a list",
    "dict_type": lambda ctx: "must be an object",
    "model_type": lambda ctx: "must be an object",
    "too_long": lambda ctx: f"must have at most {ctx.get('max_length')} items",
    "too_short": lambda ctx: f"must have at least {ctx.get('min_length')} items",
    "union_tag_invalid": lambda ctx: f"must be one of {ctx.get('expected_tags')}",
    "union_tag_not_found": lambda ctx: "is required",
}


def describe_validation_error(exc: ValidationError, document: Any = None) -> str:
    """The first problem, as 'field: message' (nested fields dotted: 'steps.0.delay_minutes')."""
    first = exc.errors(include_url=False)[0]
    loc = _field_path(first["loc"], document)
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, str((first.get("ctx") or {}).get("discriminator", "type")).strip("'"))
    where = ".".join(str(part) for part in loc) or "body"
    describe = _MESSAGES.get(first["type"])
    if describe is not None:
        message = describe(first.get("ctx") or {})
    else:
        message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"] and _NAMED.match(message):
        return message  # a whole-model rule that already names its field
    return f"{where}: {message}"


def _field_path(loc: tuple[int | str, ...], document: Any) -> tuple[int | str, ...]:
    """``loc`` as the client wrote it: pydantic adds the tag of a discriminated union
    ('targets.0.sms.number'), which is no key of the document ('targets.0.number')."""
    path: list[int | str] = []
    current = document
    for index, part in enumerate(loc):
        is_last = index == len(loc) - 1
        # A union tag: a name the loc goes on under though the document has nothing to go into there.
        if isinstance(current, dict) and not is_last and not isinstance(current.get(part), dict | list):
            continue
        path.append(part)
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        current = current[part] if in_list or (isinstance(current, dict) and part in current) else None
    return tuple(path)


def int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], or a 400 naming it."""
    params: Mapping[str, str] = request.query_params or {}
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"must be an integer from {low} to {high}", field=name) from exc
    if not low <= value <= high:
        raise InvalidInput(f"must be an integer from {low} to {high}", field=name)
    return value


def id_param(request: Request, name: str) -> str | None:
    """An id query parameter (None when absent), or a 400 naming it: it cannot name anything else."""
    params: Mapping[str, str] = request.query_params or {}
    value = params.get(name)
    if value is not None and not is_plausible_id(value):
        raise InvalidInput("is not a valid id", field=name)
    return value


def page_params(request: Request) -> tuple[int, str | None]:
    limit = int_param(request, "limit", default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    params: Mapping[str, str] = request.query_params or {}
    cursor: str | None = params.get("cursor")
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise InvalidInput("is not a valid cursor for this list", field="cursor")
    return limit, cursor


def is_plausible_id(value: str) -> bool:
    """IDs in paths are checked before they reach DynamoDB, which rejects oversized keys with a 500."""
    return bool(_ID.fullmatch(value))


def path_id(value: str, *, what: str) -> str:
    """A path id, or the 404 a missing ``what`` gets (a malformed id cannot name anything)."""
    if not is_plausible_id(value):
        raise NotFound(f"{what} not found")
    return value
