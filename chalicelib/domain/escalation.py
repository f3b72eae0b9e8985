"""Escalation policies: their rules, which one a new incident takes, and when each step is due.

A policy is a list of steps; each step notifies its targets. Timing, in the API's words: step 0
fires when the incident is created; step N fires ``delay_minutes`` after step N-1 actually fired;
after the last step the policy starts over ``repeat`` more times.

Decisions this module makes (and its tests pin down):

- Step 0 of the first pass fires at creation whatever its ``delay_minutes`` says. Its delay is
  the wait before a *repeat* pass starts (for step 0, "step N-1" is the last step of the previous
  pass). When it is 0, as in most policies, the restart waits the last step's delay instead, and
  when that is 0 too, ``MIN_RESTART_MINUTES``, so a repeat never fires every pass in one instant.
- A policy without ``match`` is never chosen by matching: only as a service's policy or as the
  org's default. ``match: {}`` fits every incident (``min_severity`` defaults to ``low``).
- Policies are given in creation order; the oldest policy that fits wins.

Pure: no clock, no I/O; the caller passes ``created_at``/``fired_at`` (epoch seconds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.accounts import NAME_MAX_CHARS, normalize_email
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.notifications import check_e164
from chalicelib.domain.service_config import SEVERITIES
from chalicelib.domain.targets import check_url

MAX_STEPS = 20
MAX_TARGETS_PER_STEP = 20
MAX_DELAY_MINUTES = 1440
MAX_REPEAT = 10
MAX_MATCH_SERVICES = 100
MIN_RESTART_MINUTES = 1

TARGET_TYPES = ("user", "role", "email", "sms", "webhook", "slack")
ROLES = ("admin", "user", "viewer")
# The one field that says where each type of target is reached.
TARGET_FIELD = {
    "user": "id",
    "role": "role",
    "email": "address",
    "sms": "number",
    "webhook": "url",
    "slack": "url",
}

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


# ---- small rules shared with notification preferences -------------------------------------------


def severity_at_least(severity: str, minimum: str) -> bool:
    """True when ``severity`` is ``minimum`` or worse (low < medium < high < critical)."""
    return _SEVERITY_RANK[severity] >= _SEVERITY_RANK[minimum]


def check_severity(value: object, *, field: str = "min_severity") -> str:
    if not isinstance(value, str) or value not in _SEVERITY_RANK:
        raise InvalidInput(f"must be one of {', '.join(SEVERITIES)}", field=field)
    return value


def check_hook_url(kind: str, url: str, *, allow_private: bool, field: str = "url") -> str:
    """A webhook (http or https) or Slack incoming-webhook URL (https).

    Slack URLs must be https in a deployed stack; where private targets are allowed (the local
    stack) plain http is accepted too, so a local receiver can stand in for Slack.
    """
    if not isinstance(url, str):
        raise InvalidInput("must be a string", field=field)
    url = check_url(url, allow_private=allow_private, field=field)
    if kind == "slack" and not allow_private and not url.lower().startswith("https://"):
        raise InvalidInput("must start with https://", field=field)
    return url


# ---- the shape of a policy ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Who a step notifies: ``type`` and the one field that type needs (see ``TARGET_FIELD``)."""

    type: str
    id: str | None = None
    role: str | None = None
    address: str | None = None
    number: str | None = None
    url: str | None = None

    @property
    def value(self) -> str:
        value = getattr(self, TARGET_FIELD[self.type])
        assert isinstance(value, str)
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, TARGET_FIELD[self.type]: self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Target:
        kind = str(data["type"])
        key = TARGET_FIELD[kind]
        return cls(type=kind, **{key: str(data[key])})


@dataclass(frozen=True)
class Step:
    delay_minutes: int
    targets: tuple[Target, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"delay_minutes": self.delay_minutes, "targets": [t.to_dict() for t in self.targets]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            delay_minutes=int(data["delay_minutes"]),
            targets=tuple(Target.from_dict(t) for t in data["targets"]),
        )


@dataclass(frozen=True)
class Match:
    min_severity: str = "low"
    service_ids: tuple[str, ...] = ()

    def fits(self, *, severity: str, service_id: str | None) -> bool:
        if not severity_at_least(severity, self.min_severity):
            return False
        return not self.service_ids or service_id in self.service_ids

    def to_dict(self) -> dict[str, Any]:
        return {"min_severity": self.min_severity, "service_ids": list(self.service_ids)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Match:
        return cls(
            min_severity=str(data.get("min_severity") or "low"),
            service_ids=tuple(str(s) for s in data.get("service_ids") or ()),
        )


@dataclass(frozen=True)
class PolicySpec:
    """A policy as a client writes it, validated."""

    name: str
    default: bool
    repeat: int
    match: Match | None
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "repeat": self.repeat,
            "match": self.match.to_dict() if self.match is not None else None,
            "steps": [step.to_dict() for step in self.steps],
        }

    def hook_targets(self) -> list[tuple[str, str]]:
        """(field path, url) of every webhook and Slack target, for the check of where they resolve."""
        return [
            (f"steps.{s}.targets.{t}.url", target.value)
            for s, step in enumerate(self.steps)
            for t, target in enumerate(step.targets)
            if target.type in ("webhook", "slack")
        ]

    def user_targets(self) -> list[tuple[str, str]]:
        """(field path, user id) of every ``user`` target, for the membership check."""
        return [
            (f"steps.{s}.targets.{t}.id", target.value)
            for s, step in enumerate(self.steps)
            for t, target in enumerate(step.targets)
            if target.type == "user"
        ]


@dataclass(frozen=True)
class PolicySnapshot:
    """What an incident keeps of its policy when it triggers, so later edits do not change a
    running escalation. ``to_dict``/``from_dict`` use plain JSON types (a DynamoDB map)."""

    policy_id: str
    name: str
    repeat: int
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "name": self.name,
            "repeat": self.repeat,
            "steps": [step.to_dict() for step in self.steps],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicySnapshot:
        # int() because numbers read back from a stream image or boto3 are Decimals or strings.
        return cls(
            policy_id=str(data["policy_id"]),
            name=str(data.get("name") or ""),
            repeat=int(data.get("repeat") or 0),
            steps=tuple(Step.from_dict(s) for s in data["steps"]),
        )


@dataclass(frozen=True)
class Policy:
    """A stored policy: its id and its content."""

    policy_id: str
    spec: PolicySpec

    def snapshot(self) -> PolicySnapshot:
        return PolicySnapshot(
            policy_id=self.policy_id, name=self.spec.name, repeat=self.spec.repeat, steps=self.spec.steps
        )


# ---- validation ---------------------------------------------------------------------------------


def parse_policy(document: Mapping[str, Any], *, allow_private: bool) -> PolicySpec:
    """A policy from plain JSON; InvalidInput naming the first bad field ('steps.1.targets.0.url').
    The one validator of a policy: the API hands it the request body as sent."""
    if not isinstance(document, Mapping):
        raise InvalidInput("must be a JSON object", field="body")
    _refuse_unknown(document, {"name", "default", "repeat", "match", "steps"}, prefix="")
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("is required" if name is None else "must not be empty", field="name")
    name = name.strip()
    if len(name) > NAME_MAX_CHARS:
        raise InvalidInput(f"must be at most {NAME_MAX_CHARS} characters", field="name")
    default = document.get("default", False)
    if not isinstance(default, bool):
        raise InvalidInput("must be true or false", field="default")
    repeat = _int_in(document.get("repeat", 0), 0, MAX_REPEAT, field="repeat")
    raw_match = document.get("match")
    match = None if raw_match is None else _parse_match(raw_match)
    raw_steps = document.get("steps")
    if raw_steps is None:
        raise InvalidInput("is required", field="steps")
    if not isinstance(raw_steps, list | tuple):
        raise InvalidInput("must be a list", field="steps")
    if not 1 <= len(raw_steps) <= MAX_STEPS:
        raise InvalidInput(f"must have from 1 to {MAX_STEPS} steps", field="steps")
    steps = tuple(
        _parse_step(raw, prefix=f"steps.{index}", allow_private=allow_private)
        for index, raw in enumerate(raw_steps)
    )
    return PolicySpec(name=name, default=default, repeat=repeat, match=match, steps=steps)


def _parse_match(raw: object) -> Match:
    if not isinstance(raw, Mapping):
        raise InvalidInput("must be an object or null", field="match")
    _refuse_unknown(raw, {"min_severity", "service_ids"}, prefix="match")
    min_severity = check_severity(raw.get("min_severity", "low"), field="match.min_severity")
    service_ids = raw.get("service_ids", [])  # omitted: every service; null or an object is no list
    if not isinstance(service_ids, list | tuple):
        raise InvalidInput("must be a list", field="match.service_ids")
    if len(service_ids) > MAX_MATCH_SERVICES:
        raise InvalidInput(f"must have at most {MAX_MATCH_SERVICES} items", field="match.service_ids")
    for index, service_id in enumerate(service_ids):
        if not isinstance(service_id, str) or not _ID.match(service_id):
            raise InvalidInput("is not a valid service id", field=f"match.service_ids.{index}")
    return Match(min_severity=min_severity, service_ids=tuple(dict.fromkeys(service_ids)))


def _parse_step(raw: object, *, prefix: str, allow_private: bool) -> Step:
    if not isinstance(raw, Mapping):
        raise InvalidInput("must be an object", field=prefix)
    _refuse_unknown(raw, {"delay_minutes", "targets"}, prefix=prefix)
    delay = _int_in(raw.get("delay_minutes", 0), 0, MAX_DELAY_MINUTES, field=f"{prefix}.delay_minutes")
    targets = raw.get("targets")
    if targets is None:
        raise InvalidInput("is required", field=f"{prefix}.targets")
    if not isinstance(targets, list | tuple):
        raise InvalidInput("must be a list", field=f"{prefix}.targets")
    if not 1 <= len(targets) <= MAX_TARGETS_PER_STEP:
        raise InvalidInput(f"must have from 1 to {MAX_TARGETS_PER_STEP} targets", field=f"{prefix}.targets")
    parsed = tuple(
        parse_target(target, prefix=f"{prefix}.targets.{index}", allow_private=allow_private)
        for index, target in enumerate(targets)
    )
    return Step(delay_minutes=delay, targets=parsed)


def parse_target(raw: object, *, prefix: str, allow_private: bool) -> Target:
    if not isinstance(raw, Mapping):
        raise InvalidInput("must be an object", field=prefix)
    kind = raw.get("type")
    if kind is None:
        raise InvalidInput("is required", field=f"{prefix}.type")
    if not isinstance(kind, str) or kind not in TARGET_FIELD:  # an object or a list is no type either
        raise InvalidInput(f"must be one of {', '.join(TARGET_TYPES)}", field=f"{prefix}.type")
    key = TARGET_FIELD[kind]
    for name, other in raw.items():
        # Another type's field sent as null is no field at all (a client may send every field).
        if name not in {"type", key} and not (name in TARGET_FIELD.values() and other is None):
            raise InvalidInput(f"is not an accepted field for a {kind} target", field=f"{prefix}.{name}")
    field = f"{prefix}.{key}"
    value = raw.get(key)
    if value is None:
        raise InvalidInput(f"is required for a {kind} target", field=field)
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field=field)
    if kind == "user":
        if not _ID.match(value):
            raise InvalidInput("is not a valid user id", field=field)
    elif kind == "role":
        if value not in ROLES:
            raise InvalidInput(f"must be one of {', '.join(ROLES)}", field=field)
    elif kind == "email":
        value = normalize_email(value, field=field)
    elif kind == "sms":
        value = check_e164(value, field=field)
    else:
        value = check_hook_url(kind, value, allow_private=allow_private, field=field)
    return Target(type=kind, **{key: value})


def _int_in(value: object, low: int, high: int, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be an integer", field=field)
    if not low <= value <= high:
        raise InvalidInput(f"must be from {low} to {high}", field=field)
    return value


def _refuse_unknown(raw: Mapping[str, Any], known: set[str], *, prefix: str) -> None:
    for name in raw:
        if name not in known:
            raise InvalidInput("is not an accepted field", field=f"{prefix}.{name}" if prefix else name)


# ---- which policy a new incident takes ----------------------------------------------------------


def select_policy(
    policies: Sequence[Policy], *, service_policy_id: str | None, severity: str, service_id: str | None
) -> Policy | None:
    """The service's policy if it names one that exists; else the oldest policy whose ``match``
    fits; else the org's default; else None. ``policies`` are in creation order."""
    if service_policy_id is not None:
        for policy in policies:
            if policy.policy_id == service_policy_id:
                return policy
    for policy in policies:
        match = policy.spec.match
        if match is not None and match.fits(severity=severity, service_id=service_id):
            return policy
    for policy in policies:
        if policy.spec.default:
            return policy
    return None


# ---- the planner --------------------------------------------------------------------------------


def first_step_due(snapshot: PolicySnapshot, created_at: int) -> int:
    """Step 0 of the first pass fires when the incident is created, whatever its delay says."""
    return created_at


def restart_delay_minutes(snapshot: PolicySnapshot) -> int:
    """The wait between the last step of a pass and step 0 of the next one (see the module doc)."""
    first = snapshot.steps[0].delay_minutes
    if first > 0:
        return first
    return max(snapshot.steps[-1].delay_minutes, MIN_RESTART_MINUTES)


def next_step(
    snapshot: PolicySnapshot, *, step: int, loop: int, fired_at: int
) -> tuple[int, int, int] | None:
    """After step ``step`` of pass ``loop`` (0 = the first pass) fired at ``fired_at``: the next
    (step, loop, due_at), or None when the policy is done."""
    if not 0 <= step < len(snapshot.steps) or not 0 <= loop <= snapshot.repeat:
        raise ValueError(f"no step {step} in pass {loop} of policy {snapshot.policy_id}")
    if step + 1 < len(snapshot.steps):
        return step + 1, loop, fired_at + snapshot.steps[step + 1].delay_minutes * 60
    if loop < snapshot.repeat:
        return 0, loop + 1, fired_at + restart_delay_minutes(snapshot) * 60
    return None
