"""Alert ingest end to end inside one process: the API takes alerts onto the intake queue, the
router claims incidents and puts each alert on the FIFO alerts queue, the consumer opens, groups,
acknowledges and resolves incidents (API.md "Integrations and alert ingest"; ARCHITECTURE.md: every
handler is idempotent, nothing is lost)."""

import json
import random
import uuid

import pytest

from chalicelib.adapters import alert_queue as alert_queue_adapter
from chalicelib.models.integrations import AlertDedup
from chalicelib.usecases import alert_routing, alert_taking
from infra.local.metering import metered


@pytest.fixture
def org(api, new_account, new_org):
    admin = new_account()
    return new_org(admin)["id"], admin


@pytest.fixture
def integration(api, org):
    def make(type="generic", **fields):
        org_id, admin = org
        reply = api.post(
            f"/v1/orgs/{org_id}/integrations",
            {"name": f"{type} alerts", "type": type, **fields},
            token=admin.access_token,
        )
        assert reply.status == 201, reply.body
        return reply.body

    return make


@pytest.fixture
def consumer(alert_queue):
    alert_queue.run_consumer()  # what earlier tests left
    return alert_queue


def incident(api, org, incident_id):
    org_id, admin = org
    reply = api.get(f"/v1/orgs/{org_id}/incidents/{incident_id}", token=admin.access_token)
    assert reply.status == 200, reply.body
    return reply.body


def timeline(api, org, incident_id):
    org_id, admin = org
    return api.get(f"/v1/orgs/{org_id}/incidents/{incident_id}/timeline", token=admin.access_token).body[
        "items"
    ]


def with_dedup_key(api, org, dedup_key):
    """The org's incidents of this dedup key, newest first."""
    org_id, admin = org
    items = api.get(f"/v1/orgs/{org_id}/incidents", token=admin.access_token).body["items"]
    return [i for i in items if i["dedup_key"] == dedup_key]


def send(api, key, body):
    reply = api.post(f"/v1/alerts/{key}", body)
    assert reply.status == 202, reply.body
    assert reply.body["status"] == "accepted"
    return reply.body


def test_a_generic_alert_opens_an_incident_under_the_answers_dedup_key(api, org, integration, consumer):
    key = integration(severity="low")["key"]
    accepted = send(
        api, key, {"title": "Login fails with 500 for every SSO user", "description": "Okta callback errors"}
    )
    consumer.run_consumer()
    [opened] = with_dedup_key(api, org, accepted["dedup_keys"][0])
    incident_id = opened["id"]
    assert opened["source"] == "alert"
    assert opened["status"] == "open"
    assert opened["severity"] == "low"  # the payload said nothing: the integration's default
    assert opened["alert_count"] == 1
    assert opened["category"] == "login"
    assert opened["dedup_key"] == accepted["dedup_keys"][0]
    assert [entry["type"] for entry in timeline(api, org, incident_id)] == ["created", "alert"]


def test_a_trigger_with_an_open_incidents_key_groups_into_it(api, org, integration, consumer):
    key = integration()["key"]
    send(api, key, {"title": "CPU high on db-1", "dedup_key": "cpu-db-1", "severity": "critical"})
    consumer.run_consumer()
    send(api, key, {"title": "CPU high on db-1", "dedup_key": "cpu-db-1"})
    send(api, key, {"title": "CPU high on db-1", "dedup_key": "cpu-db-1"})
    consumer.run_consumer()
    [grouped] = with_dedup_key(api, org, "cpu-db-1")
    assert grouped["alert_count"] == 3
    assert grouped["severity"] == "critical"
    assert [e["type"] for e in timeline(api, org, grouped["id"])].count("alert") == 3


def test_triggers_taken_before_the_consumer_runs_agree_on_one_incident(api, org, integration, consumer):
    key = integration()["key"]
    for _ in range(3):
        send(api, key, {"title": "Queue backlog", "dedup_key": "backlog"})
    consumer.run_consumer()
    [one] = with_dedup_key(api, org, "backlog")
    assert one["alert_count"] == 3


def test_a_concurrent_claim_for_the_same_key_yields_the_winners_incident(api, org, integration):
    created = integration()
    source = alert_taking.authenticate(created["key"])
    group = alert_routing.dedup_id(source.integration_id, "raced")
    winner = alert_routing._claim(source.org_id, group, "raced", previous=None, now=1)
    # A second writer that read "no claim" before the winner wrote: its condition fails.
    assert alert_routing._claim(source.org_id, group, "raced", previous=None, now=1) == winner
    assert AlertDedup.get(group).incident_id == winner


def test_resolve_closes_and_the_next_trigger_opens_a_new_incident(api, org, integration, consumer):
    key = integration()["key"]
    send(api, key, {"title": "Disk full on web-3", "dedup_key": "disk-web-3"})
    send(api, key, {"dedup_key": "disk-web-3", "action": "resolve"})
    consumer.run_consumer()  # FIFO: the resolve waits for its trigger
    [opened] = with_dedup_key(api, org, "disk-web-3")
    assert opened["status"] == "resolved"
    send(api, key, {"title": "Disk full on web-3", "dedup_key": "disk-web-3"})
    consumer.run_consumer()
    reopened, _ = with_dedup_key(api, org, "disk-web-3")
    assert reopened["id"] != opened["id"]
    assert reopened["status"] == "open"


def test_acknowledge_by_alert_and_resolve_of_nothing(api, org, integration, consumer):
    key = integration()["key"]
    send(api, key, {"title": "Payment errors", "dedup_key": "pay"})
    send(api, key, {"dedup_key": "pay", "action": "acknowledge"})
    consumer.run_consumer()
    [acknowledged] = with_dedup_key(api, org, "pay")
    opened = acknowledged["id"]
    assert acknowledged["status"] == "acknowledged"
    entry = next(e for e in timeline(api, org, opened) if e["type"] == "acknowledged")
    assert entry["actor_id"] is None and entry["data"]["integration"] == "generic alerts"
    assert send(api, key, {"dedup_key": "never-opened", "action": "resolve"})["dedup_keys"] == [
        "never-opened"
    ]
    consumer.run_consumer()
    assert with_dedup_key(api, org, "never-opened") == []


def test_a_person_resolving_means_the_next_trigger_opens_a_new_incident(api, org, integration, consumer):
    org_id, admin = org
    key = integration()["key"]
    send(api, key, {"title": "Cache misses", "dedup_key": "cache"})
    consumer.run_consumer()
    [first] = [i["id"] for i in with_dedup_key(api, org, "cache")]
    assert (
        api.post(f"/v1/orgs/{org_id}/incidents/{first}/resolve", {}, token=admin.access_token).status == 200
    )
    send(api, key, {"title": "Cache misses", "dedup_key": "cache"})
    consumer.run_consumer()
    second, _ = with_dedup_key(api, org, "cache")
    assert second["id"] != first
    assert second["alert_count"] == 1


def test_a_message_delivered_twice_counts_once(api, org, integration, consumer):
    key = integration()["key"]
    send(api, key, {"title": "Latency", "dedup_key": "lat"})
    consumer.run_consumer()
    [opened] = [i["id"] for i in with_dedup_key(api, org, "lat")]
    send(api, key, {"title": "Latency", "dedup_key": "lat"})
    consumer.run_router()
    messages = consumer.receive()
    event = consumer.event(messages)
    from chalicelib.events.alerts import alert_batch

    assert alert_batch(event, None) == {"batchItemFailures": []}
    assert alert_batch(event, None) == {"batchItemFailures": []}  # SQS at-least-once
    consumer.run_consumer()
    assert incident(api, org, opened)["alert_count"] == 2

    # The creating message delivered again after a resolve opens nothing either.
    send(api, key, {"title": "Errors", "dedup_key": "err"})
    consumer.run_router()
    messages = consumer.receive()
    alert_batch(consumer.event(messages), None)
    [fresh] = [i["id"] for i in with_dedup_key(api, org, "err")]
    org_id, admin = org
    api.post(f"/v1/orgs/{org_id}/incidents/{fresh}/resolve", {}, token=admin.access_token)
    alert_batch(consumer.event(messages), None)
    consumer.run_consumer()
    listed = api.get(f"/v1/orgs/{org_id}/incidents", token=admin.access_token).body["items"]
    assert [i["id"] for i in listed if i["dedup_key"] == "err"] == [fresh]


def test_a_poison_message_is_reported_failed_and_its_neighbours_are_done(api, org, integration, consumer):
    from chalicelib.events.alerts import alert_batch

    key = integration()["key"]
    send(api, key, {"title": "Good alert", "dedup_key": "good"})
    consumer.run_router()
    [message] = consumer.receive()
    poison = {
        **message,
        "MessageId": "poison",
        "Body": "{not json",
        "Attributes": {**message["Attributes"], "MessageGroupId": "other"},
    }
    response = alert_batch(consumer.event([poison, message]), None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    consumer.run_consumer()
    assert [i["status"] for i in with_dedup_key(api, org, "good")] == ["open"]


def test_severity_from_the_payload_wins_over_the_integrations_default(api, org, integration, consumer):
    key = integration(severity="low")["key"]
    [dedup_key] = send(api, key, {"title": "Replica lag", "severity": "critical"})["dedup_keys"]
    consumer.run_consumer()
    assert [i["severity"] for i in with_dedup_key(api, org, dedup_key)] == ["critical"]


def test_an_integrations_service_owns_its_incidents(api, org, integration, consumer, target):
    org_id, admin = org
    service = api.post(
        f"/v1/orgs/{org_id}/services", {"name": "Checkout", "url": target.url}, token=admin.access_token
    ).body
    key = integration(service_id=service["id"])["key"]
    [dedup_key] = send(api, key, {"title": "Checkout errors"})["dedup_keys"]
    consumer.run_consumer()
    assert [i["service_id"] for i in with_dedup_key(api, org, dedup_key)] == [service["id"]]


def test_an_alert_incident_takes_the_orgs_escalation_policy(api, org, integration, consumer):
    org_id, admin = org
    policy = api.post(
        f"/v1/orgs/{org_id}/escalation-policies",
        {
            "name": "Primary",
            "default": True,
            "steps": [{"targets": [{"type": "email", "address": "oncall@example.com"}]}],
        },
        token=admin.access_token,
    ).body
    [dedup_key] = send(api, integration()["key"], {"title": "Checkout errors"})["dedup_keys"]
    consumer.run_consumer()
    [opened] = with_dedup_key(api, org, dedup_key)
    assert incident(api, org, opened["id"])["escalation"]["policy_id"] == policy["id"]


# ---- what ingest refuses -------------------------------------------------------------------------


def test_unknown_and_malformed_keys_are_not_found(api):
    assert api.post(f"/v1/alerts/{'0' * 64}", {"title": "x"}).status == 404
    assert api.post("/v1/alerts/not-a-key", {"title": "x"}).status == 404


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        (json.dumps({"description": "no title"}), "title"),
        (json.dumps({"title": "x", "severity": "urgent"}), "severity"),
        (json.dumps({"title": "x", "action": "explode"}), "action"),
    ],
)
def test_malformed_payloads_are_400_naming_the_field(api, integration, raw, field):
    reply = api.post(f"/v1/alerts/{integration()['key']}", raw=raw)
    assert reply.status == 400
    assert reply.message.startswith(field)


def test_when_the_queue_cannot_take_alerts_the_answer_is_503_not_4xx(api, integration, monkeypatch):
    key = integration()["key"]
    monkeypatch.setattr(
        alert_queue_adapter, "intake_queue_url", lambda: "http://127.0.0.1:1/000000000000/gone.fifo"
    )
    reply = api.post(f"/v1/alerts/{key}", {"title": "Disk full"})
    assert reply.status == 503
    assert int(reply.headers["retry-after"]) >= 1


# ---- PagerDuty Events API v2 at /v2/enqueue ----------------------------------------------------


def pd_event(key, action="trigger", **fields):
    event = {"routing_key": key, "event_action": action, **fields}
    if action == "trigger":
        event.setdefault(
            "payload",
            {
                "summary": "Example alert on host1.example.com",
                "source": "host1.example.com",
                "severity": "error",
            },
        )
    return event


def test_enqueue_answers_like_pagerduty_and_generates_a_dedup_key(api, org, integration, consumer):
    key = integration(type="pagerduty")["key"]
    reply = api.post("/v2/enqueue", pd_event(key))
    assert reply.status == 202
    assert reply.body["status"] == "success" and reply.body["message"] == "Event processed"
    dedup_key = reply.body["dedup_key"]
    assert len(dedup_key) == 32
    consumer.run_consumer()
    org_id, admin = org
    [opened] = [
        i
        for i in api.get(f"/v1/orgs/{org_id}/incidents", token=admin.access_token).body["items"]
        if i["dedup_key"] == dedup_key
    ]
    assert opened["severity"] == "high"  # PagerDuty's error
    assert opened["title"] == "Example alert on host1.example.com"


def test_enqueue_triggers_acknowledges_and_resolves_one_incident_by_dedup_key(
    api, org, integration, consumer
):
    key = integration(type="pagerduty")["key"]
    dedup_key = f"srv01/HTTP-{uuid.uuid4().hex[:6]}"
    for action in ("trigger", "trigger", "acknowledge"):
        assert (
            api.post("/v2/enqueue", pd_event(key, action, dedup_key=dedup_key)).body["dedup_key"] == dedup_key
        )
    consumer.run_consumer()
    org_id, admin = org
    [opened] = [
        i
        for i in api.get(f"/v1/orgs/{org_id}/incidents", token=admin.access_token).body["items"]
        if i["dedup_key"] == dedup_key
    ]
    assert opened["status"] == "acknowledged" and opened["alert_count"] == 2
    api.post("/v2/enqueue", pd_event(key, "resolve", dedup_key=dedup_key))
    consumer.run_consumer()
    assert incident(api, org, opened["id"])["status"] == "resolved"


def test_an_invalid_event_gets_pagerdutys_400(api, integration):
    key = integration(type="pagerduty")["key"]
    reply = api.post(
        "/v2/enqueue",
        {"routing_key": key, "event_action": "trigger", "payload": {"source": "x", "severity": "bad"}},
    )
    assert reply.status == 400
    assert reply.body["status"] == "invalid event"
    assert reply.body["message"] == "Event object is invalid"
    assert any(e.startswith("payload.summary") for e in reply.body["errors"])
    assert any(e.startswith("payload.severity") for e in reply.body["errors"])
    assert (
        api.post("/v2/enqueue", {"routing_key": key, "event_action": "resolve"}).status == 400
    )  # no dedup_key
    assert api.post("/v2/enqueue", raw="{oops").body["status"] == "invalid request"
    assert api.post("/v2/enqueue", pd_event("f" * 64)).status == 404


# ---- CloudWatch through SNS ---------------------------------------------------------------------


def sns_notification(alarm, *, message_id=None):
    return {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:vigil-alarms",
        "Subject": f'ALARM: "{alarm["AlarmName"]}" in US East (N. Virginia)',
        "Message": json.dumps(alarm),
        "Timestamp": "2026-11-23T04:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    }


def alarm(state, name="api-5xx-rate"):
    return {
        "AlarmName": name,
        "AlarmDescription": "5xx responses above 5%",
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [7.5] was greater than the threshold (5.0).",
        "StateChangeTime": "2026-11-23T04:00:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "Trigger": {
            "MetricName": "5XXError",
            "Namespace": "AWS/ApiGateway",
            "Statistic": "AVERAGE",
            "Threshold": 5.0,
        },
    }


def test_cloudwatch_alarm_and_ok_through_sns_open_and_resolve(api, org, integration, consumer):
    key = integration(type="cloudwatch")["key"]
    headers = {"x-amz-sns-message-type": "Notification", "content-type": "text/plain; charset=UTF-8"}
    name = f"api-5xx-{uuid.uuid4().hex[:6]}"
    reply = api.post(
        f"/v1/alerts/{key}", raw=json.dumps(sns_notification(alarm("ALARM", name))), headers=headers
    )
    assert reply.status == 202, reply.body
    assert reply.body["dedup_keys"] == [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
    consumer.run_consumer()
    [opened] = with_dedup_key(api, org, reply.body["dedup_keys"][0])
    reply = api.post(
        f"/v1/alerts/{key}", raw=json.dumps(sns_notification(alarm("OK", name))), headers=headers
    )
    consumer.run_consumer()
    assert incident(api, org, opened["id"])["status"] == "resolved"


def test_sns_delivering_one_notification_twice_counts_it_once(api, org, integration, consumer):
    key = integration(type="cloudwatch")["key"]
    delivery = json.dumps(sns_notification(alarm("ALARM", f"dup-{uuid.uuid4().hex[:6]}")))
    [dedup_key] = api.post(f"/v1/alerts/{key}", raw=delivery).body["dedup_keys"]
    api.post(f"/v1/alerts/{key}", raw=delivery)
    consumer.run_consumer()
    assert [i["alert_count"] for i in with_dedup_key(api, org, dedup_key)] == [1]


def test_a_subscription_confirmation_from_outside_aws_is_not_followed(api, integration):
    key = integration(type="cloudwatch")["key"]
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:vigil-alarms",
        "Message": "You have chosen to subscribe to the topic...",
        "SubscribeURL": "https://evil.example.com/?Action=ConfirmSubscription",
        "Timestamp": "2026-11-23T04:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
    }
    reply = api.post(
        f"/v1/alerts/{key}", confirmation, headers={"x-amz-sns-message-type": "SubscriptionConfirmation"}
    )
    assert reply.status == 400
    assert reply.message.startswith("SubscribeURL")


def test_an_alert_that_keeps_failing_ends_in_the_dead_letter_queue(consumer, stack):
    from chalicelib.events.alerts import alert_batch

    sqs = consumer.sqs
    dlq_url = stack.queue_urls["vigil-test-alerts-dlq.fifo"]
    sqs.send_message(
        QueueUrl=consumer.url,
        MessageBody='{"not": "an alert"}',
        MessageGroupId="poison-group",
        MessageDeduplicationId=str(uuid.uuid4()),
    )
    for _ in range(5):  # the queue's maxReceiveCount (infra/template.yaml)
        messages = [m for m in consumer.receive() if m["Body"] == '{"not": "an alert"}']
        assert len(messages) == 1
        assert alert_batch(consumer.event(messages), None)["batchItemFailures"]
        sqs.change_message_visibility(
            QueueUrl=consumer.url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
        )
    assert [m for m in consumer.receive() if m["Body"] == '{"not": "an alert"}'] == []
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ['{"not": "an alert"}']


def test_an_intake_message_that_keeps_failing_ends_in_its_dead_letter_queue(consumer, stack):
    from chalicelib.events.alerts import intake_batch

    intake = consumer.intake
    dlq_url = stack.queue_urls["vigil-test-alert-intake-dlq.fifo"]
    intake.sqs.send_message(
        QueueUrl=intake.url,
        MessageBody='{"not": "taken alerts"}',
        MessageGroupId="poison-integration",
        MessageDeduplicationId=str(uuid.uuid4()),
    )
    for _ in range(5):  # the queue's maxReceiveCount (infra/template.yaml)
        messages = [m for m in intake.receive() if m["Body"] == '{"not": "taken alerts"}']
        assert len(messages) == 1
        assert intake_batch(intake.event(messages), None)["batchItemFailures"]
        intake.sqs.change_message_visibility(
            QueueUrl=intake.url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
        )
    assert [m for m in intake.receive() if m["Body"] == '{"not": "taken alerts"}'] == []
    dead = intake.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ['{"not": "taken alerts"}']


# ---- the request path costs the same whatever the payload holds ---------------------------------


def alertmanager_notification(count, *, annotation=None):
    """Alertmanager's webhook, each alert as small as Alertmanager sends them (1,500 in about 170 KB)."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "HostHighCpuLoad", "instance": f"web-{n}:9100"},
            "fingerprint": f"{n:016x}",
        }
        for n in range(count)
    ]
    if annotation is not None:
        for alert in alerts:
            alert["annotations"] = {"description": annotation()}
    return {"version": "4", "groupKey": "{}:{}", "status": "firing", "receiver": "vigil", "alerts": alerts}


def test_the_request_path_makes_the_same_aws_requests_for_1_and_1500_alerts(api, integration, consumer):
    key = integration(type="alertmanager")["key"]
    send(api, key, alertmanager_notification(1))  # the queue's URL is looked up once per process
    requests = {}
    for count in (1, 100, 1500):
        with metered() as meter:
            assert len(send(api, key, alertmanager_notification(count))["dedup_keys"]) == count
        requests[count] = dict(meter.calls)
    assert (
        requests[1]
        == requests[100]
        == requests[1500]
        == {
            "dynamodb.GetItem": 1,  # the integration key
            "sqs.SendMessageBatch": 1,  # everything taken, in one message
        }
    )
    consumer.intake.purge()  # routing 1,600 alerts is the router's job, measured by bench.ingest


def test_a_notification_past_sqs_message_size_is_split_in_order_and_every_alert_routed(
    api, org, integration, consumer
):
    key = integration(type="alertmanager")["key"]
    # 240 KB of text that hardly compresses (random printable characters): more than one message holds.
    printable = [chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\']
    notification = alertmanager_notification(
        30, annotation=lambda: "".join(random.choices(printable, k=8_000))
    )
    with metered() as meter:
        accepted = send(api, key, notification)
    assert meter.calls["sqs.SendMessageBatch"] >= 2
    consumer.run_router()
    queued = []
    while messages := consumer.receive():
        queued += [json.loads(m["Body"])["dedup_key"] for m in messages]
        consumer.sqs.delete_message_batch(
            QueueUrl=consumer.url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    assert sorted(queued) == sorted(accepted["dedup_keys"])


def test_when_aws_fails_after_the_key_is_read_the_answer_is_503(api, integration, monkeypatch):
    key = integration(type="alertmanager")["key"]

    def refused(messages):
        raise alert_queue_adapter.NotQueued("SQS refused 1 messages: throttled")

    monkeypatch.setattr(alert_queue_adapter, "send_intake", refused)
    reply = api.post(f"/v1/alerts/{key}", alertmanager_notification(3))
    assert reply.status == 503


# ---- each accepted trigger is one alert (issue 9) -----------------------------------------------


def test_two_identical_pagerduty_triggers_are_two_alerts_on_one_incident(api, org, integration, consumer):
    key = integration(type="pagerduty")["key"]
    event = pd_event(key, dedup_key=f"disk-{uuid.uuid4().hex[:6]}")
    assert api.post("/v2/enqueue", event).status == 202
    consumer.run_consumer()
    assert api.post("/v2/enqueue", event).status == 202  # the same event, one after the other
    assert api.post("/v2/enqueue", event).status == 202  # and again, before anything routes it
    consumer.run_consumer()
    [grouped] = with_dedup_key(api, org, event["dedup_key"])
    assert grouped["alert_count"] == 3
    assert [e["type"] for e in timeline(api, org, grouped["id"])].count("alert") == 3
