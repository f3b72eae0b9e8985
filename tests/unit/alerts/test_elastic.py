"""Kibana alerting through a Webhook connector (chalicelib/domain/alerts/elastic.py)."""

import json
import re

import pytest

from chalicelib.domain.alerts import Alert, AlertAction, Link
from chalicelib.domain.alerts.elastic import BODY_TEMPLATE, parse_connector_body
from chalicelib.domain.errors import InvalidInput

RULE_ID = "0a7c2f40-5e9b-11ef-9a1c-0d3e4f5a6b7c"
REASON = (
    'system.cpu.total.norm.pct is 97.3% in the last 5 mins for host "web-1".\n'
    "Alert when > 90%.\tPath: C:\\Temp\\{{x}}"
)

# What Kibana passes a rule action for one alert of an index threshold rule grouped by host.
VARIABLES = {
    "rule.id": RULE_ID,
    "rule.name": "CPU above 90%",
    "rule.tags": ["prod", "web"],
    "rule.url": f"https://kibana.example.com/app/management/insightsAndAlerting/triggersActions/rule/{RULE_ID}",
    "alert.id": "web-1",
    "alert.actionGroup": "threshold met",
    "alert.actionGroupName": "Threshold met",
    "alert.flapping": False,
    "context.reason": REASON,
    "context.alertDetailsUrl": "https://kibana.example.com/app/observability/alerts/9b1de5e2",
    "date": "2026-11-23T04:00:07.512Z",
    "kibanaBaseUrl": "https://kibana.example.com",
}

RECOVERED = {
    **VARIABLES,
    "alert.actionGroup": "recovered",
    "alert.actionGroupName": "Recovered",
    "context.reason": "system.cpu.total.norm.pct is 41.0% in the last 5 mins for host web-1.",
}


def kibana_json_escape(value):
    """Kibana's escapeJSON for a Webhook connector body: JSON.stringify(`${value}`) without the quotes.

    `${value}` of an array joins its items with commas; of a boolean, "true" or "false".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ",".join(str(item) for item in value)
    else:
        text = str(value)
    return json.dumps(text, ensure_ascii=False)[1:-1]


def render(variables):
    return re.sub(
        r"{{\s*([\w.]+)\s*}}", lambda m: kibana_json_escape(variables.get(m.group(1))), BODY_TEMPLATE
    )


def delivered(variables=VARIABLES):
    return json.loads(render(variables))


def test_template_uses_only_kibana_rule_action_variables():
    assert set(re.findall(r"{{([\w.]+)}}", BODY_TEMPLATE)) == set(VARIABLES)


def test_template_renders_to_json_whatever_the_reason_says():
    body = delivered()
    assert body["context"]["reason"] == REASON
    assert body["rule"]["tags"] == "prod,web"
    assert body["alert"]["flapping"] == "false"


def test_rendered_template_reads_as_the_expected_alert():
    assert parse_connector_body(delivered()) == Alert(
        action=AlertAction.TRIGGER,
        dedup_key=f"{RULE_ID}:web-1",
        title="CPU above 90%: web-1",
        description=REASON,
        severity=None,
        source=None,
        details={
            "rule": {
                "id": RULE_ID,
                "name": "CPU above 90%",
                "tags": ["prod", "web"],
                "url": VARIABLES["rule.url"],
            },
            "alert": {
                "id": "web-1",
                "actionGroup": "threshold met",
                "actionGroupName": "Threshold met",
                "flapping": False,
            },
            "context": {"alertDetailsUrl": "https://kibana.example.com/app/observability/alerts/9b1de5e2"},
            "date": "2026-11-23T04:00:07.512Z",
            "kibanaBaseUrl": "https://kibana.example.com",
        },
        links=(
            Link("https://kibana.example.com/app/observability/alerts/9b1de5e2", "Alert details"),
            Link(VARIABLES["rule.url"], "Rule"),
        ),
        occurred_at="2026-11-23T04:00:07.512Z",
    )


def test_recovered_alert_resolves_what_it_opened():
    opened = parse_connector_body(delivered())
    closed = parse_connector_body(delivered(RECOVERED))
    assert (closed.action, closed.dedup_key) == (AlertAction.RESOLVE, opened.dedup_key)


def test_repeat_notification_gives_the_same_dedup_key():
    assert parse_connector_body(delivered()).dedup_key == parse_connector_body(delivered()).dedup_key


@pytest.mark.parametrize("group", ["query matched", "threshold met", "metrics.threshold.fired", "custom"])
def test_every_other_action_group_triggers(group):
    assert (
        parse_connector_body(delivered({**VARIABLES, "alert.actionGroup": group})).action
        is AlertAction.TRIGGER
    )


def test_each_alert_of_a_rule_is_its_own_incident():
    web1 = parse_connector_body(delivered())
    web2 = parse_connector_body(delivered({**VARIABLES, "alert.id": "web-2"}))
    assert web1.dedup_key != web2.dedup_key


def test_an_alert_named_after_its_rule_is_titled_once():
    alone = {**VARIABLES, "alert.id": RULE_ID}
    assert parse_connector_body(delivered(alone)).title == "CPU above 90%"
    assert (
        parse_connector_body(delivered({**VARIABLES, "alert.id": "CPU above 90%"})).title == "CPU above 90%"
    )


def test_variables_kibana_leaves_unset_render_empty_and_are_left_out():
    # rule.url and context.alertDetailsUrl are "" without server.publicBaseUrl; older Kibanas
    # have no alert.flapping.
    sparse = {**VARIABLES, "rule.url": None, "context.alertDetailsUrl": None, "alert.flapping": None}
    sparse["kibanaBaseUrl"] = None
    sparse["rule.tags"] = []
    alert = parse_connector_body(delivered(sparse))
    assert alert.links == ()
    assert "flapping" not in alert.details["alert"]
    assert "kibanaBaseUrl" not in alert.details
    assert "context" not in alert.details
    assert "tags" not in alert.details["rule"]


def test_optional_severity_is_read_when_added_to_the_template():
    assert parse_connector_body({**delivered(), "severity": "critical"}).severity == "critical"
    assert parse_connector_body({**delivered(), "severity": "warning"}).severity == "medium"
    assert parse_connector_body({**delivered(), "severity": "sev-zero"}).severity is None


def test_tags_sent_as_a_json_list_are_read_too():
    body = delivered()
    body["rule"]["tags"] = ["prod", "web"]
    assert parse_connector_body(body).details["rule"]["tags"] == ["prod", "web"]


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        ({**VARIABLES, "rule.id": None}, "rule.id", "is required"),
        ({**VARIABLES, "alert.id": None}, "alert.id", "is required"),
        ({**VARIABLES, "alert.id": "   "}, "alert.id", "is required"),
    ],
)
def test_rule_id_and_alert_id_are_required(variables, field, message):
    with pytest.raises(InvalidInput) as caught:
        parse_connector_body(delivered(variables))
    assert str(caught.value) == f"{field}: {message}"


def test_a_body_without_rule_is_reported_as_missing_rule_id():
    body = delivered()
    del body["rule"]
    with pytest.raises(InvalidInput) as caught:
        parse_connector_body(body)
    assert caught.value.field == "rule.id"


def test_ids_must_be_strings_and_sections_objects():
    with pytest.raises(InvalidInput, match=r"^rule\.id: must be a string$"):
        parse_connector_body({**delivered(), "rule": {"id": 7}})
    with pytest.raises(InvalidInput, match=r"^alert: must be an object$"):
        parse_connector_body({**delivered(), "alert": "web-1"})


def test_the_template_itself_unrendered_is_refused():
    with pytest.raises(InvalidInput) as caught:
        parse_connector_body(json.loads(BODY_TEMPLATE))
    assert caught.value.field == "rule.id"
    assert "rule action" in str(caught.value)


def test_a_very_long_alert_id_is_bounded():
    key = parse_connector_body(delivered({**VARIABLES, "alert.id": "host-" + "x" * 400})).dedup_key
    assert key is not None
    assert len(key) == 255
    assert key.startswith(f"{RULE_ID}:host-x")


@pytest.mark.parametrize("body", [[], "rule", None])
def test_a_body_that_is_not_an_object_is_refused(body):
    with pytest.raises(InvalidInput, match=r"^body: must be a JSON object$"):
        parse_connector_body(body)
