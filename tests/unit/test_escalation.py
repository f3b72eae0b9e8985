"""The escalation planner, policy selection and policy validation (chalicelib/domain/escalation.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.escalation import (
    Match,
    Policy,
    PolicySnapshot,
    check_hook_url,
    first_step_due,
    next_step,
    parse_policy,
    restart_delay_minutes,
    select_policy,
    severity_at_least,
)
from chalicelib.domain.notifications import check_e164

CREATED = 1_800_000_000
MINUTE = 60
ONCALL = {"type": "user", "id": "01HUSER"}


def policy_doc(*delays: int, repeat: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Primary",
        "repeat": repeat,
        "steps": [{"delay_minutes": d, "targets": [ONCALL]} for d in delays],
        **extra,
    }


def snapshot(*delays: int, repeat: int = 0) -> PolicySnapshot:
    spec = parse_policy(policy_doc(*delays, repeat=repeat), allow_private=False)
    return Policy("P1", spec).snapshot()


class FakeClock:
    """Time the test moves by hand; each step fires exactly when it is due."""

    def __init__(self, now: int) -> None:
        self.now = now

    def advance_to(self, when: int) -> None:
        assert when >= self.now, "time never runs backwards"
        self.now = when


def run_escalation(policy: PolicySnapshot, *, created_at: int = CREATED) -> list[tuple[int, int, int]]:
    """Every (step, loop, fired_at) of an incident nobody acknowledges."""
    clock = FakeClock(created_at)
    clock.advance_to(first_step_due(policy, created_at))
    fired = [(0, 0, clock.now)]
    while (
        planned := next_step(policy, step=fired[-1][0], loop=fired[-1][1], fired_at=clock.now)
    ) is not None:
        step, loop, due_at = planned
        clock.advance_to(due_at)
        fired.append((step, loop, clock.now))
        assert len(fired) < 1000
    return fired


# ---- the planner --------------------------------------------------------------------------------


def test_step_0_fires_when_the_incident_is_created():
    assert first_step_due(snapshot(0, 15), CREATED) == CREATED


def test_step_0_fires_at_creation_even_with_a_delay():
    # Its delay is the wait before a repeat pass, not before the first page.
    assert first_step_due(snapshot(10, 15), CREATED) == CREATED


def test_each_step_fires_its_delay_after_the_previous_one():
    assert run_escalation(snapshot(0, 15, 30)) == [
        (0, 0, CREATED),
        (1, 0, CREATED + 15 * MINUTE),
        (2, 0, CREATED + 45 * MINUTE),
    ]


def test_the_delay_counts_from_when_the_previous_step_actually_fired():
    # A step fired late (or by hand with /escalate) moves the next one with it.
    policy = snapshot(0, 15, 30)
    late = CREATED + 20 * MINUTE
    assert next_step(policy, step=1, loop=0, fired_at=late) == (2, 0, late + 30 * MINUTE)


def test_the_policy_ends_after_its_last_step_without_repeat():
    policy = snapshot(0, 5)
    assert next_step(policy, step=1, loop=0, fired_at=CREATED) is None
    assert len(run_escalation(policy)) == 2


def test_repeat_starts_the_policy_over_that_many_more_times():
    fired = run_escalation(snapshot(0, 10, repeat=2))
    assert [(step, loop) for step, loop, _ in fired] == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


def test_a_repeat_waits_the_last_steps_delay_when_step_0_has_none():
    fired = run_escalation(snapshot(0, 10, repeat=1))
    assert [at - CREATED for _, _, at in fired] == [0, 10 * MINUTE, 20 * MINUTE, 30 * MINUTE]


def test_a_repeat_waits_step_0s_delay_when_it_has_one():
    policy = snapshot(5, 10, repeat=1)
    assert restart_delay_minutes(policy) == 5
    assert [at - CREATED for _, _, at in run_escalation(policy)] == [0, 10 * MINUTE, 15 * MINUTE, 25 * MINUTE]


def test_a_repeat_never_fires_every_pass_in_the_same_instant():
    policy = snapshot(0, repeat=3)
    assert restart_delay_minutes(policy) == 1
    assert [at - CREATED for _, _, at in run_escalation(policy)] == [0, 60, 120, 180]


def test_a_step_that_does_not_exist_is_a_programming_error():
    with pytest.raises(ValueError):
        next_step(snapshot(0, 5), step=2, loop=0, fired_at=CREATED)
    with pytest.raises(ValueError):
        next_step(snapshot(0, 5, repeat=1), step=0, loop=2, fired_at=CREATED)


def test_a_snapshot_round_trips_through_plain_json_and_dynamodb_numbers():
    every_kind = {
        "name": "Primary",
        "repeat": 1,
        "steps": [
            {"delay_minutes": 0, "targets": [ONCALL, {"type": "role", "role": "admin"}]},
            {
                "delay_minutes": 15,
                "targets": [
                    {"type": "email", "address": "OnCall@X.io"},
                    {"type": "sms", "number": "+15555550100"},
                    {"type": "webhook", "url": "https://example.com/hook"},
                    {"type": "slack", "url": "https://hooks.slack.com/services/T/B/x"},
                ],
            },
        ],
    }
    spec = parse_policy(every_kind, allow_private=False)
    original = Policy("P1", spec).snapshot()
    data = original.to_dict()
    assert data["steps"][1]["targets"][0] == {"type": "email", "address": "oncall@x.io"}
    assert PolicySnapshot.from_dict(data) == original
    # A stream image read with boto3 carries Decimals.
    decimals = {**data, "repeat": Decimal(1)}
    decimals["steps"] = [{**s, "delay_minutes": Decimal(s["delay_minutes"])} for s in data["steps"]]
    assert PolicySnapshot.from_dict(decimals) == original


# ---- which policy a new incident takes ----------------------------------------------------------


def stored(policy_id: str, *, default: bool = False, match: dict[str, Any] | None = None) -> Policy:
    extra: dict[str, Any] = {"default": default}
    if match is not None:
        extra["match"] = match
    return Policy(policy_id, parse_policy(policy_doc(0, **extra), allow_private=False))


def choose(policies: list[Policy], *, service_policy_id=None, severity="high", service_id="S1") -> str | None:
    chosen = select_policy(
        policies, service_policy_id=service_policy_id, severity=severity, service_id=service_id
    )
    return chosen.policy_id if chosen else None


def test_the_services_policy_comes_first():
    policies = [stored("MATCH", match={}), stored("DEFAULT", default=True), stored("SERVICE")]
    assert choose(policies, service_policy_id="SERVICE") == "SERVICE"


def test_a_service_policy_that_no_longer_exists_falls_back():
    policies = [stored("DEFAULT", default=True)]
    assert choose(policies, service_policy_id="DELETED") == "DEFAULT"


def test_then_the_oldest_policy_whose_match_fits():
    policies = [
        stored("DEFAULT", default=True),
        stored("CRITICAL", match={"min_severity": "critical"}),
        stored("OTHER-SERVICE", match={"service_ids": ["S2"]}),
        stored("HIGH", match={"min_severity": "high"}),
        stored("ANY", match={}),
    ]
    assert choose(policies, severity="critical") == "CRITICAL"
    assert choose(policies, severity="high") == "HIGH"
    assert choose(policies, severity="low") == "ANY"
    assert choose(policies, severity="low", service_id="S2") == "OTHER-SERVICE"


def test_a_match_on_services_needs_one_of_them():
    policies = [stored("S1-ONLY", match={"service_ids": ["S1"]}), stored("DEFAULT", default=True)]
    assert choose(policies, service_id="S1") == "S1-ONLY"
    assert choose(policies, service_id="S9") == "DEFAULT"
    assert choose(policies, service_id=None) == "DEFAULT"  # a manual incident has no service


def test_then_the_default_and_otherwise_none():
    assert choose([stored("PLAIN"), stored("DEFAULT", default=True)]) == "DEFAULT"
    assert choose([stored("PLAIN"), stored("HIGH", match={"min_severity": "critical"})]) is None
    assert choose([]) is None


def test_a_policy_without_match_is_never_chosen_by_matching():
    assert choose([stored("NO-MATCH"), stored("DEFAULT", default=True)], severity="critical") == "DEFAULT"


def test_severity_order():
    assert severity_at_least("critical", "low")
    assert severity_at_least("medium", "medium")
    assert not severity_at_least("medium", "high")
    assert Match("medium").fits(severity="high", service_id=None)


# ---- validation ---------------------------------------------------------------------------------


def refused(document: dict[str, Any], *, allow_private: bool = False) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(document, allow_private=allow_private)
    return caught.value.message


def with_target(target: dict[str, Any]) -> dict[str, Any]:
    return {"name": "P", "steps": [{"delay_minutes": 0, "targets": [ONCALL]}, {"targets": [target]}]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"steps": [{"targets": [ONCALL]}]}, "name: is required"),
        ({"name": "  ", "steps": [{"targets": [ONCALL]}]}, "name: must not be empty"),
        ({"name": "P"}, "steps: is required"),
        ({"name": "P", "steps": []}, "steps: must have from 1 to 20 steps"),
        ({"name": "P", "steps": [{"targets": [ONCALL]}] * 21}, "steps: must have from 1 to 20 steps"),
        ({"name": "P", "steps": [{"targets": []}]}, "steps.0.targets: must have from 1 to 20 targets"),
        ({"name": "P", "steps": [{"targets": [ONCALL] * 21}]}, "steps.0.targets: must have from 1 to 20"),
        (policy_doc(0, -1), "steps.1.delay_minutes: must be from 0 to 1440"),
        (policy_doc(0, 1441), "steps.1.delay_minutes: must be from 0 to 1440"),
        (policy_doc(0, repeat=11), "repeat: must be from 0 to 10"),
        (policy_doc(0, repeat=-1), "repeat: must be from 0 to 10"),
        (policy_doc(0, repeat=True), "repeat: must be an integer"),
        (policy_doc(0, default="yes"), "default: must be true or false"),
        (policy_doc(0, match={"min_severity": "urgent"}), "match.min_severity: must be one of"),
        (policy_doc(0, match={"service_ids": ["../x"]}), "match.service_ids.0: is not a valid service id"),
        (policy_doc(0, match={"services": []}), "match.services: is not an accepted field"),
        (policy_doc(0, match={"service_ids": {}}), "match.service_ids: must be a list"),
        (policy_doc(0, match={"service_ids": None}), "match.service_ids: must be a list"),
        (policy_doc(0, owner="x"), "owner: is not an accepted field"),
        (with_target({"type": "pager", "id": "x"}), "steps.1.targets.0.type: must be one of user, role"),
        (with_target({"id": "x"}), "steps.1.targets.0.type: is required"),
        (with_target({"type": {}, "url": "HTTP://0"}), "steps.1.targets.0.type: must be one of"),
        (with_target({"type": "user"}), "steps.1.targets.0.id: is required for a user target"),
        (with_target({"type": "role", "role": "owner"}), "steps.1.targets.0.role: must be one of"),
        (with_target({"type": "email", "address": "nope"}), "steps.1.targets.0.address: is not a valid"),
        (with_target({"type": "sms", "number": "5555550100"}), "steps.1.targets.0.number: must be an E.164"),
        (with_target({"type": "sms", "number": "+1 555 555 0100"}), "steps.1.targets.0.number: must be"),
        (with_target({"type": "sms", "number": " +15555550100" + " " * 20}), "steps.1.targets.0.number"),
        (with_target({"type": "webhook", "url": "ftp://x.io/h"}), "steps.1.targets.0.url: must start with"),
        (with_target({"type": "webhook", "url": "http://10.0.0.8/h"}), "steps.1.targets.0.url: points at"),
        (with_target({"type": "slack", "url": "http://hooks.slack.com/x"}), "steps.1.targets.0.url: must"),
        (with_target({"type": "sms", "url": "https://x.io"}), "steps.1.targets.0.url: is not an accepted"),
    ],
)
def test_validation_names_the_field(document, message):
    assert refused(document).startswith(message)


def test_private_hooks_are_allowed_where_the_deployment_allows_them():
    spec = parse_policy(
        with_target({"type": "webhook", "url": "http://127.0.0.1:9000/hook"}), allow_private=True
    )
    assert spec.steps[1].targets[0].url == "http://127.0.0.1:9000/hook"
    # ...and a local http receiver may stand in for Slack.
    assert check_hook_url("slack", "http://127.0.0.1:9000/slack", allow_private=True)


def test_a_valid_policy_is_normalized():
    spec = parse_policy(
        {
            "name": "  Primary ",
            "default": True,
            "repeat": 1,
            "match": {"min_severity": "high", "service_ids": ["S1", "S1"]},
            "steps": [{"targets": [ONCALL, {"type": "sms", "number": " +15555550100 "}]}],
        },
        allow_private=False,
    )
    assert spec.name == "Primary"
    assert spec.match == Match("high", ("S1",))
    assert spec.steps[0].delay_minutes == 0
    assert spec.steps[0].targets[1].number == "+15555550100"
    assert spec.user_targets() == [("steps.0.targets.0.id", "01HUSER")]


@pytest.mark.parametrize("number", ["+15555550100", "+442071838750", "+81312345678"])
def test_e164_numbers(number):
    assert check_e164(number) == number


@pytest.mark.parametrize("number", ["", "+", "+0123", "15555550100", "+1-555-555-0100", "+1234567890123456"])
def test_not_e164_numbers(number):
    with pytest.raises(InvalidInput) as caught:
        check_e164(number, field="address")
    assert caught.value.message.startswith("address: must be an E.164 phone number")


@pytest.mark.parametrize("kind", [{}, [], 5])
def test_a_target_type_that_is_not_a_string_is_refused_naming_it(kind):
    assert refused(with_target({"type": kind, "url": "https://example.com"})).startswith(
        "steps.1.targets.0.type"
    )


def test_an_sms_number_longer_than_the_schema_allows_is_refused_even_if_spaces_pad_it():
    assert refused(with_target({"type": "sms", "number": " +1000000" + " " * 24})).startswith(
        "steps.1.targets.0"
    )


@pytest.mark.parametrize("service_ids", [{}, "", 0, None])
def test_match_service_ids_must_be_a_list(service_ids):
    document = {"name": "P", "match": {"service_ids": service_ids}, "steps": [{"targets": [ONCALL]}]}
    assert refused(document).startswith("match.service_ids")


@pytest.mark.parametrize(
    ("document", "field"),
    [
        # Found by schemathesis: an empty object read as "no services" and was accepted.
        (
            {
                "name": "P",
                "match": {"service_ids": {}},
                "steps": [{"targets": [{"type": "role", "role": "admin"}]}],
            },
            "match.service_ids",
        ),
        # The schema closes each target to its own field; the code now does too.
        (
            {"name": "P", "steps": [{"targets": [{"type": "role", "role": "admin", "url": None}]}]},
            "steps.0.targets.0.url",
        ),
    ],
)
def test_the_validator_refuses_what_the_schema_refuses(document, field):
    with pytest.raises(InvalidInput) as raised:
        parse_policy(document, allow_private=True)
    assert str(raised.value).startswith(f"{field}:")
