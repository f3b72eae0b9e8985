"""SNS HTTP(S) deliveries read as the AWS docs describe them (chalicelib/domain/alerts/sns.py)."""

import json

import pytest

from chalicelib.domain.alerts.sns import SnsMessage, is_aws_sns_url, parse_envelope, string_to_sign
from chalicelib.domain.errors import InvalidInput

# The examples of https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
NOTIFICATION = {
    "Type": "Notification",
    "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
    "Subject": "My First Message",
    "Message": "Hello world!",
    "Timestamp": "2012-05-02T00:54:06.655Z",
    "SignatureVersion": "1",
    "Signature": "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/"
    "LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
    "SigningCertURL": "https://sns.us-west-2.amazonaws.com/"
    "SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
    "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
    "arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96",
}
TOKEN = (
    "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad"
    "02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03"
    "b0879594eeac82c01f235d0e717736"
)
SUBSCRIPTION_CONFIRMATION = {
    "Type": "SubscriptionConfirmation",
    "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
    "Token": TOKEN,
    "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
    "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n"
    "To confirm the subscription, visit the SubscribeURL included in this message.",
    "SubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token={TOKEN}",
    "Timestamp": "2012-04-26T20:45:04.751Z",
    "SignatureVersion": "1",
    "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6b"
    "kkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
    "SigningCertURL": "https://sns.us-west-2.amazonaws.com/"
    "SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
}
# A CloudWatch alarm, as SNS delivers it: the alarm's JSON is the Message, escaped inside the envelope.
ALARM = {
    "AlarmName": "api-5xx",
    "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).",
}


def without(envelope: dict, name: str) -> dict:
    return {k: v for k, v in envelope.items() if k != name}


# ---- parse_envelope ------------------------------------------------------------------------------


def test_a_notification_is_read_field_by_field() -> None:
    message = parse_envelope(NOTIFICATION, "Notification")

    assert message == SnsMessage(
        type="Notification",
        message_id="22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        topic_arn="arn:aws:sns:us-west-2:123456789012:MyTopic",
        subject="My First Message",
        message="Hello world!",
        timestamp="2012-05-02T00:54:06.655Z",
        token=None,
        subscribe_url=None,
        signature_version="1",
        signature=NOTIFICATION["Signature"],
        signing_cert_url=NOTIFICATION["SigningCertURL"],
        raw=NOTIFICATION,
    )
    assert not message.is_confirmation


def test_a_subscription_confirmation_carries_its_token_and_subscribe_url() -> None:
    message = parse_envelope(SUBSCRIPTION_CONFIRMATION, "SubscriptionConfirmation")

    assert message.type == "SubscriptionConfirmation"
    assert message.is_confirmation
    assert message.token == TOKEN
    assert message.subscribe_url == SUBSCRIPTION_CONFIRMATION["SubscribeURL"]
    assert message.subject is None


def test_the_body_may_be_the_text_sns_posts_as_text_plain() -> None:
    body = json.dumps({**NOTIFICATION, "Message": json.dumps(ALARM)}, indent=2)

    for raw in (body, body.encode()):
        message = parse_envelope(raw)
        assert json.loads(message.message) == ALARM


def test_a_notification_without_subject_has_none() -> None:
    assert parse_envelope(without(NOTIFICATION, "Subject")).subject is None
    assert parse_envelope({**NOTIFICATION, "Subject": None}).subject is None


def test_the_header_may_be_left_out() -> None:
    assert parse_envelope(NOTIFICATION).type == "Notification"


def test_a_header_naming_another_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^Type: does not match the x-amz-sns-message-type header"):
        parse_envelope(NOTIFICATION, "SubscriptionConfirmation")


@pytest.mark.parametrize(
    ("envelope", "field"),
    [
        (without(NOTIFICATION, "Type"), "Type"),
        ({**NOTIFICATION, "Type": "Notice"}, "Type"),
        (without(NOTIFICATION, "Message"), "Message"),
        ({**NOTIFICATION, "Message": {"AlarmName": "decoded already"}}, "Message"),
        (without(NOTIFICATION, "MessageId"), "MessageId"),
        (without(NOTIFICATION, "TopicArn"), "TopicArn"),
        ({**NOTIFICATION, "TopicArn": "arn:aws:sqs:us-west-2:123456789012:MyQueue"}, "TopicArn"),
        (without(NOTIFICATION, "Timestamp"), "Timestamp"),
        (without(NOTIFICATION, "Signature"), "Signature"),
        ({**NOTIFICATION, "Signature": ""}, "Signature"),
        (without(NOTIFICATION, "SignatureVersion"), "SignatureVersion"),
        ({**NOTIFICATION, "SignatureVersion": "3"}, "SignatureVersion"),
        ({**NOTIFICATION, "SignatureVersion": 1}, "SignatureVersion"),
        (without(NOTIFICATION, "SigningCertURL"), "SigningCertURL"),
        ({**NOTIFICATION, "Subject": 42}, "Subject"),
        (without(SUBSCRIPTION_CONFIRMATION, "Token"), "Token"),
        (without(SUBSCRIPTION_CONFIRMATION, "SubscribeURL"), "SubscribeURL"),
    ],
)
def test_a_missing_or_malformed_field_is_named(envelope: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_envelope(envelope)
    assert error.value.field == field


@pytest.mark.parametrize("body", [None, [], "[]", "not json", b"\xff\xfe", 42])
def test_a_body_that_is_no_json_object_is_refused(body: object) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_envelope(body)
    assert error.value.field == "body"


# ---- string_to_sign ------------------------------------------------------------------------------


def test_a_notification_signs_message_id_subject_timestamp_topic_and_type() -> None:
    assert string_to_sign(parse_envelope(NOTIFICATION)) == (
        b"Message\nHello world!\n"
        b"MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        b"Subject\nMy First Message\n"
        b"Timestamp\n2012-05-02T00:54:06.655Z\n"
        b"TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n"
        b"Type\nNotification\n"
    )


def test_a_notification_without_subject_leaves_the_pair_out() -> None:
    assert string_to_sign(parse_envelope(without(NOTIFICATION, "Subject"))) == (
        b"Message\nHello world!\n"
        b"MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        b"Timestamp\n2012-05-02T00:54:06.655Z\n"
        b"TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n"
        b"Type\nNotification\n"
    )


def test_an_empty_subject_is_still_signed() -> None:
    assert b"Subject\n\nTimestamp\n" in string_to_sign(parse_envelope({**NOTIFICATION, "Subject": ""}))


def test_a_subscription_confirmation_signs_subscribe_url_and_token() -> None:
    assert (
        string_to_sign(parse_envelope(SUBSCRIPTION_CONFIRMATION))
        == (
            "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message.\n"
            "MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n"
            f"SubscribeURL\n{SUBSCRIPTION_CONFIRMATION['SubscribeURL']}\n"
            "Timestamp\n2012-04-26T20:45:04.751Z\n"
            f"Token\n{TOKEN}\n"
            "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n"
            "Type\nSubscriptionConfirmation\n"
        ).encode()
    )


def test_an_unsubscribe_confirmation_signs_like_a_subscription_confirmation() -> None:
    envelope = {**SUBSCRIPTION_CONFIRMATION, "Type": "UnsubscribeConfirmation", "Subject": "ignored"}

    signed = string_to_sign(parse_envelope(envelope))

    assert signed.endswith(b"Type\nUnsubscribeConfirmation\n")
    assert b"Token\n" in signed
    assert b"Subject" not in signed


def test_the_message_is_signed_unescaped_and_as_utf8() -> None:
    body = json.dumps({**NOTIFICATION, "Message": 'Alarm "disk" \u00e9chec\n\tline 2'})

    assert string_to_sign(parse_envelope(body)).startswith(
        'Message\nAlarm "disk" \u00e9chec\n\tline 2\nMessageId\n'.encode()
    )


# ---- is_aws_sns_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:1:T",
        "https://sns.eu-central-1.amazonaws.com/x.pem",
        "https://sns.ap-southeast-3.amazonaws.com/x.pem",
        "https://sns.us-gov-west-1.amazonaws.com/x.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
        "https://sns.cn-northwest-1.amazonaws.com.cn/x.pem",
        "https://sns.us-east-1.amazonaws.com:443/x.pem",
        "https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem",
        "https://sns.us-east-1.amazonaws.com",
    ],
)
def test_urls_on_amazon_sns_are_accepted(url: str) -> None:
    assert is_aws_sns_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/x.pem",  # not https
        "ftp://sns.us-east-1.amazonaws.com/x.pem",
        "//sns.us-east-1.amazonaws.com/x.pem",
        "sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.io/x.pem",  # lookalikes
        "https://sns.us-east-1.amazonaws.com.cn.evil.io/x.pem",
        "https://evil.io/sns.us-east-1.amazonaws.com/x.pem",
        "https://sns-us-east-1.amazonaws.com/x.pem",
        "https://snsXus-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1Xamazonaws.com/x.pem",
        "https://evilsns.us-east-1.amazonaws.com/x.pem",
        "https://x.sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.amazonaws.com/x.pem",
        "https://sns.evil.amazonaws.com/x.pem",
        "https://sns.us-east-1.evil.amazonaws.com/x.pem",
        "https://sqs.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com./x.pem",  # trailing dot
        "https://sns.us-east-1.amazonaws.co/x.pem",
        "https://sns.us-east-1.amazonaws.com@evil.io/x.pem",  # user info
        "https://evil.io@sns.us-east-1.amazonaws.com/x.pem",
        "https://user:pass@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:8443/x.pem",  # another port
        "https://sns.us-east-1.amazonaws.com:0/x.pem",
        "https://sns.us-east-1.amazonaws.com:notaport/x.pem",
        "https://sns.us-east-1.amazonaws.com:/x.pem",
        "https://sns.us-east-1.amazonaws.com\\@evil.io/x.pem",  # parsers disagree on these
        "https://sns.us-east-1.amazonaws.com\t.evil.io/x.pem",
        "https://sns.us-east-1.amazonaws.com\n.evil.io/x.pem",
        " https://sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com%2eevil.io/x.pem",
        "https://[::1]/x.pem",
        "https://169.254.169.254/latest/meta-data/",
        "",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    assert not is_aws_sns_url(url)


def test_a_url_that_is_not_a_string_is_refused() -> None:
    assert not is_aws_sns_url(None)  # type: ignore[arg-type]
