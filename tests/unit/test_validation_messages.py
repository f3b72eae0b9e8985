from typing import Literal

import pytest
from pydantic import Field, ValidationError

from chalicelib.api.fields import Name, RequestModel
from chalicelib.api.http import describe_validation_error


class Example(RequestModel):
    name: Name
    role: Literal["admin", "user"] = "user"
    count: int = Field(default=1, ge=1, le=10)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name: is required"),
        ({"name": ""}, "name: must not be empty"),
        ({"name": 5}, "name: must be a string"),
        ({"name": "x" * 201}, "name: must be at most 200 characters"),
        ({"name": "x", "role": "owner"}, "role: must be one of 'admin' or 'user'"),
        ({"name": "x", "count": 0}, "count: must be at least 1"),
        ({"name": "x", "count": "3"}, "count: must be an integer"),
        ({"name": "x", "extra": 1}, "extra: is not an accepted field"),
    ],
)
def test_messages_name_the_field(body, message):
    with pytest.raises(ValidationError) as caught:
        Example.model_validate(body)
    assert describe_validation_error(caught.value) == message
