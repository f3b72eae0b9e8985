"""Escalation policies: create, list, read, replace, delete, and the policy a new incident takes.

- Policies are listed oldest first: creation order is the order in which ``match`` rules are
  tried on a new incident, so the list reads like the rule book.
- At most one policy per org is the default. Making one the default clears the flag on the
  previous one in the same transaction, which also writes the org's ``DefaultPolicyMarker`` on a
  version condition: two racing requests cannot leave two defaults, and a request that lost such
  a race is re-read and retried (409 only if it keeps losing).
- ``user`` targets must be members of the org when the policy is written (400 naming the field).
  A member removed later is skipped when the step fires.
- Deleting a policy that services still name is allowed: their incidents fall back to ``match``
  and the default, as for a service that names no policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import now_seconds
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.escalation import (
    TARGET_FIELD,
    Match,
    Policy,
    PolicySnapshot,
    PolicySpec,
    Step,
    Target,
    check_severity,
    parse_policy,
    select_policy,
)
from chalicelib.domain.ids import new_id
from chalicelib.models.orgs import Membership
from chalicelib.models.policies import (
    DEFAULT_MARKER,
    DefaultPolicyMarker,
    EscalationPolicy,
    MatchMap,
    StepMap,
    TargetMap,
)
from chalicelib.models.services import Service
from chalicelib.settings import settings
from chalicelib.usecases import targets
from chalicelib.usecases.dynamo import condition_failed, transaction_connection
from chalicelib.usecases.pagination import Page, fetch_page

logger = Logger(service="vigil", child=True, level=settings.log_level)

MAX_ATTEMPTS = 3
RACE_LOST = "the organization's policies changed meanwhile; try again"

T = TypeVar("T")


# ---- between the record and the domain ----------------------------------------------------------


def policy_of(record: EscalationPolicy) -> Policy:
    match = None
    if record.match is not None:
        match = Match(
            min_severity=record.match.min_severity or "low",
            service_ids=tuple(str(s) for s in record.match.service_ids or ()),
        )
    steps = tuple(
        Step(
            delay_minutes=int(step.delay_minutes),
            targets=tuple(
                Target(type=t.type, **{TARGET_FIELD[t.type]: getattr(t, TARGET_FIELD[t.type])})
                for t in step.targets
            ),
        )
        for step in record.steps
    )
    spec = PolicySpec(
        name=record.name,
        default=bool(record.is_default),
        repeat=int(record.repeat),
        match=match,
        steps=steps,
    )
    return Policy(policy_id=record.policy_id, spec=spec)


def document_of(record: EscalationPolicy) -> dict[str, Any]:
    """The policy's content in plain JSON: name, default, repeat, match, steps."""
    return policy_of(record).spec.to_dict()


def _record(org_id: str, policy_id: str, spec: PolicySpec, *, created_at: int, now: int) -> EscalationPolicy:
    return EscalationPolicy(
        org_id,
        policy_id,
        name=spec.name,
        is_default=spec.default,
        repeat=spec.repeat,
        match=None
        if spec.match is None
        else MatchMap(min_severity=spec.match.min_severity, service_ids=list(spec.match.service_ids)),
        steps=[
            StepMap(
                delay_minutes=step.delay_minutes,
                targets=[TargetMap(**target.to_dict()) for target in step.targets],
            )
            for step in spec.steps
        ],
        created_at=created_at,
        updated_at=now,
    )


def _checked(org_id: str, document: Mapping[str, Any]) -> PolicySpec:
    """The one validation of a policy: its shape (``parse_policy``), then what it names: members of
    this org, services of this org, and (in a deployed stack) hooks that resolve outside."""
    spec = parse_policy(document, allow_private=settings.allow_private_targets)
    users = spec.user_targets()
    if users:
        wanted = {user_id for _, user_id in users}
        members = {
            m.user_id
            for m in Membership.batch_get(
                [(org_id, user_id) for user_id in wanted],
                consistent_read=True,
                attributes_to_get=["org_id", "user_id"],
            )
        }
        for field, user_id in users:
            if user_id not in members:
                raise InvalidInput("is not a member of this organization", field=field)
    if spec.match is not None and spec.match.service_ids:
        _refuse_other_services(org_id, spec.match.service_ids)
    if not settings.allow_private_targets:
        targets.refuse_private_resolution(spec.hook_targets())
    return spec


def _refuse_other_services(org_id: str, service_ids: tuple[str, ...]) -> None:
    """Every id must be a service of this org (one BatchGetItem): another org's, or one that does
    not exist, would never match, silently."""
    found = {
        service.service_id
        for service in Service.batch_get(
            [(org_id, service_id) for service_id in service_ids],
            consistent_read=True,
            attributes_to_get=["org_id", "service_id"],
        )
    }
    for index, service_id in enumerate(service_ids):
        if service_id not in found:
            raise InvalidInput("is not a service of this organization", field=f"match.service_ids.{index}")


def require_policy(org_id: str, policy_id: str, *, field: str) -> None:
    """For what names a policy (a service): 400 naming ``field`` unless it is one of this org's."""
    try:
        get_policy(org_id, policy_id)
    except NotFound as exc:
        raise InvalidInput("is not an escalation policy of this organization", field=field) from exc


# ---- reading ------------------------------------------------------------------------------------


def _policies_of(org_id: str, **query: Any) -> Iterator[EscalationPolicy]:
    # The range condition stops below the org's DefaultPolicyMarker.
    return EscalationPolicy.query(org_id, EscalationPolicy.policy_id < DEFAULT_MARKER, **query)


def list_policies(org_id: str, *, limit: int, cursor: str | None) -> Page[EscalationPolicy]:
    """Oldest first: the order in which their ``match`` rules are tried."""
    return fetch_page(
        lambda **kw: EscalationPolicy.query(
            org_id, EscalationPolicy.policy_id < DEFAULT_MARKER, scan_index_forward=True, **kw
        ),
        limit=limit,
        cursor=cursor,
        scope=f"policies:{org_id}",
    )


def get_policy(org_id: str, policy_id: str) -> EscalationPolicy:
    if policy_id >= DEFAULT_MARKER:
        raise NotFound("escalation policy not found")
    try:
        return EscalationPolicy.get(org_id, policy_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("escalation policy not found") from exc


def policy_for_new_incident(
    org_id: str, *, severity: str, service_id: str | None, service_policy_id: str | None
) -> PolicySnapshot | None:
    """The snapshot of the policy a new incident takes (one Query of the org's policies), or None."""
    check_severity(severity, field="severity")
    policies = [policy_of(record) for record in _policies_of(org_id, consistent_read=True)]
    chosen = select_policy(
        policies, service_policy_id=service_policy_id, severity=severity, service_id=service_id
    )
    return chosen.snapshot() if chosen is not None else None


# ---- writing ------------------------------------------------------------------------------------


def create_policy(org_id: str, document: Mapping[str, Any]) -> EscalationPolicy:
    spec = _checked(org_id, document)
    now = now_seconds()
    policy = _record(org_id, new_id(), spec, created_at=now, now=now)
    policy.version = 1
    is_new = EscalationPolicy.policy_id.does_not_exist()
    if spec.default:
        _retry_races(lambda: _save_moving_default(policy, condition=is_new, make_default=True))
    else:
        policy.save(condition=is_new)
    logger.info("escalation policy created", extra={"org_id": org_id, "policy_id": policy.policy_id})
    return policy


def replace_policy(org_id: str, policy_id: str, document: Mapping[str, Any]) -> EscalationPolicy:
    """PUT: the whole policy is replaced; ``created_at`` stays."""
    spec = _checked(org_id, document)

    def attempt() -> EscalationPolicy:
        before = get_policy(org_id, policy_id)
        policy = _record(org_id, policy_id, spec, created_at=int(before.created_at), now=now_seconds())
        policy.version = int(before.version) + 1
        unchanged = EscalationPolicy.version == before.version
        if bool(before.is_default) == spec.default:
            try:
                policy.save(condition=unchanged)
            except PutError as exc:
                if condition_failed(exc):
                    raise _RaceLost() from exc
                raise
        else:
            _save_moving_default(policy, condition=unchanged, make_default=spec.default)
        return policy

    return _retry_races(attempt)


def delete_policy(org_id: str, policy_id: str) -> None:
    def attempt() -> None:
        policy = get_policy(org_id, policy_id)
        unchanged = EscalationPolicy.version == policy.version
        if policy.is_default:
            marker = _read_marker(org_id)
            try:
                with TransactWrite(connection=transaction_connection()) as tx:
                    tx.delete(policy, condition=unchanged)
                    tx.update(
                        DefaultPolicyMarker(org_id, DEFAULT_MARKER),
                        actions=[
                            DefaultPolicyMarker.default_policy_id.remove(),
                            DefaultPolicyMarker.version.add(1),
                        ],
                        condition=_marker_unchanged(marker),
                    )
            except TransactWriteError as exc:
                _raise_if_not_a_race(exc)
                raise _RaceLost() from exc
            return
        try:
            policy.delete(condition=unchanged)
        except DeleteError as exc:
            if condition_failed(exc):
                raise _RaceLost() from exc
            raise

    _retry_races(attempt)
    logger.info("escalation policy deleted", extra={"org_id": org_id, "policy_id": policy_id})


def delete_all_policies(org_id: str) -> None:
    """For org deletion: every policy and the default marker."""
    with EscalationPolicy.batch_write() as batch:
        for policy in EscalationPolicy.query(org_id, attributes_to_get=["org_id", "policy_id"]):
            batch.delete(policy)


# ---- the default, one per org -------------------------------------------------------------------


class _RaceLost(Exception):
    """A conditional write lost to a concurrent change; the whole attempt is re-read and retried."""


def _retry_races(attempt: Callable[[], T]) -> T:
    for _ in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except _RaceLost:
            continue
    raise Conflict(RACE_LOST)


def _read_marker(org_id: str) -> DefaultPolicyMarker | None:
    try:
        return DefaultPolicyMarker.get(org_id, DEFAULT_MARKER, consistent_read=True)
    except DoesNotExist:
        return None


def _marker_unchanged(marker: DefaultPolicyMarker | None) -> Condition:
    if marker is None:
        return DefaultPolicyMarker.org_id.does_not_exist()
    return DefaultPolicyMarker.version == marker.version


def _save_moving_default(policy: EscalationPolicy, *, condition: Condition, make_default: bool) -> None:
    """Saves ``policy`` and makes it the org's default (clearing the previous one) or, with
    ``make_default=False``, stops it being the default; all in one transaction on the marker."""
    org_id = policy.org_id
    marker = _read_marker(org_id)
    previous = marker.default_policy_id if marker is not None else None
    pointer: Action | None
    if make_default:
        pointer = DefaultPolicyMarker.default_policy_id.set(policy.policy_id)
    elif previous == policy.policy_id:
        pointer = DefaultPolicyMarker.default_policy_id.remove()
    else:
        pointer = None
    marker_actions: list[Action] = [DefaultPolicyMarker.version.add(1)]
    if pointer is not None:
        marker_actions.append(pointer)
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.update(
                DefaultPolicyMarker(org_id, DEFAULT_MARKER),
                actions=marker_actions,
                condition=_marker_unchanged(marker),
            )
            tx.save(policy, condition=condition)
            if make_default and previous is not None and previous != policy.policy_id:
                tx.update(
                    EscalationPolicy(org_id, previous),
                    actions=[EscalationPolicy.is_default.set(False), EscalationPolicy.version.add(1)],
                    condition=EscalationPolicy.policy_id.exists(),
                )
    except TransactWriteError as exc:
        _raise_if_not_a_race(exc)
        raise _RaceLost() from exc
    if make_default:
        logger.info("default escalation policy", extra={"org_id": org_id, "policy_id": policy.policy_id})


def _raise_if_not_a_race(exc: PynamoDBException) -> None:
    reasons = exc.cancellation_reasons if isinstance(exc, TransactWriteError) else None
    conflicted = any(r is not None and r.code == "TransactionConflict" for r in reasons or [])
    if not (condition_failed(exc) or conflicted):
        raise exc
