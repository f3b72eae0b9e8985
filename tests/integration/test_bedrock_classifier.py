"""Classification through Amazon Bedrock, falling back to the offline classifier.

(chalicelib/adapters/bedrock.py, chalicelib/usecases/classification.py.) Bedrock is not in moto, so
the adapter's own client is stubbed with botocore's Stubber: the request is checked against the
service model and nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from chalicelib.adapters import bedrock
from chalicelib.domain.classifier import classify
from chalicelib.settings import settings
from chalicelib.usecases.classification import categorize

TITLE = "Users cannot sign in through Okta SSO"
DESCRIPTION = "SAML assertion rejected after the IdP certificate rotation; MFA prompts loop."
# Words the offline classifier files under "network", so a fallback is told apart from a reply.
NETWORK_TITLE = "DNS resolution failing for api.example.com, packet loss on the uplink"


def reply(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 180, "outputTokens": 2, "totalTokens": 182},
        "metrics": {"latencyMs": 211},
    }


@pytest.fixture
def model() -> Iterator[Stubber]:
    with Stubber(bedrock._bedrock()) as stub:
        yield stub
        stub.assert_no_pending_responses()


def expected_request(text: Any = ANY) -> dict[str, Any]:
    return {
        "modelId": settings.bedrock_model_id,
        "system": ANY,
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": ANY, "temperature": 0},
    }


def test_the_client_fails_fast() -> None:
    config = bedrock._bedrock().meta.config

    assert bedrock._bedrock().meta.service_model.service_name == "bedrock-runtime"
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    # botocore reads Config(retries={"max_attempts": 2}) as two retries: three calls at most.
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_the_models_answer_is_the_category(model: Stubber) -> None:
    model.add_response("converse", reply("login"), expected_request())

    assert categorize(NETWORK_TITLE, backend="bedrock") == "login"


def test_extra_words_and_punctuation_around_the_answer_are_dropped(model: Stubber) -> None:
    model.add_response("converse", reply("Network.\nThe DNS lookups fail."), expected_request())

    assert categorize(TITLE, DESCRIPTION, backend="bedrock") == "network"


def test_the_request_carries_the_model_temperature_zero_and_the_incident(model: Stubber) -> None:
    model.add_response("converse", reply("login"), expected_request(f"{TITLE}\n\n{DESCRIPTION}"))

    assert categorize(TITLE, DESCRIPTION, backend="bedrock") == "login"


def test_the_system_prompt_names_every_category(model: Stubber) -> None:
    request = expected_request()
    request["system"] = [{"text": bedrock.SYSTEM_PROMPT}]
    model.add_response("converse", reply("login"), request)

    categorize(TITLE, DESCRIPTION, backend="bedrock")

    for category in ("network", "server", "software", "login", "other"):
        assert category in bedrock.SYSTEM_PROMPT


def test_a_long_incident_is_clipped(model: Stubber) -> None:
    long_description = "disk full on db-1 " * 2000
    clipped = f"{TITLE}\n\n{long_description.strip()}"[: bedrock.INCIDENT_TEXT_MAX]
    model.add_response("converse", reply("server"), expected_request(clipped))

    assert categorize(TITLE, long_description, backend="bedrock") == "server"


@pytest.mark.parametrize("answer", ["database", "I think it is login", "", "networking"])
def test_an_answer_that_is_no_category_falls_back_to_the_offline_classifier(
    model: Stubber, answer: str
) -> None:
    model.add_response("converse", reply(answer), expected_request())

    assert categorize(NETWORK_TITLE, backend="bedrock") == classify(NETWORK_TITLE) == "network"


def test_throttling_falls_back_to_the_offline_classifier(model: Stubber) -> None:
    model.add_client_error(
        "converse",
        service_error_code="ThrottlingException",
        service_message="Too many requests, please wait before trying again.",
        http_status_code=429,
        expected_params=expected_request(),
    )

    assert categorize(NETWORK_TITLE, backend="bedrock") == "network"


def test_access_denied_falls_back_to_the_offline_classifier(model: Stubber) -> None:
    model.add_client_error("converse", service_error_code="AccessDeniedException", http_status_code=403)

    assert bedrock.ask_category(TITLE, DESCRIPTION, model_id=settings.bedrock_model_id) is None
    assert categorize(TITLE, DESCRIPTION, backend="offline") == classify(TITLE, DESCRIPTION)


def test_the_offline_backend_never_calls_bedrock(model: Stubber) -> None:
    # No response is queued: any call would raise from the stubber.
    assert categorize(NETWORK_TITLE, backend="offline") == "network"
    assert categorize(TITLE, DESCRIPTION) == classify(TITLE, DESCRIPTION)  # settings.classifier: offline


def test_an_empty_incident_is_not_sent(model: Stubber) -> None:
    assert bedrock.ask_category("  ", "", model_id=settings.bedrock_model_id) is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("login", "login"),
        ("Login", "login"),
        ("  server\n", "server"),
        ("**software**", "software"),
        ('"other"', "other"),
        ("Network.", "network"),
        ("network, because DNS fails", "network"),
        ("Category: login", None),
        ("log-in", None),
        ("", None),
    ],
)
def test_reading_the_reply(text: str, category: str | None) -> None:
    assert bedrock.category_from_reply(text) == category
