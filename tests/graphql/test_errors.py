"""Request errors keep their explanation and lose the submitted value; ours are masked."""

from __future__ import annotations

import pytest

from tests.support.harness import Harness

CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) { __typename } }"""
SECRET = "123456789:AAHk-SECRET_token_value_abcdefXXXX"


async def test_a_bad_variable_is_explained_without_echoing_its_value(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    token = await harness.register("alice@example.com")
    variables = {
        "input": {
            "name": "Bot",
            "type": "TELEGRAM_BOT",
            "credentials": {"telegramBot": {"botToken": SECRET, "unexpected": 1}},
        }
    }

    body = await harness.post(CREATE, variables, token=token)

    (error,) = body["errors"]
    assert "not to include unknown field 'unexpected'" in error["message"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert SECRET not in str(body)
    assert SECRET not in caplog.text


async def test_a_missing_required_field_is_reported(harness: Harness) -> None:
    token = await harness.register("alice@example.com")
    variables = {"input": {"name": "Bot", "type": "WEBHOOK", "credentials": {"webhook": {}}}}

    body = await harness.post(CREATE, variables, token=token)

    (error,) = body["errors"]
    assert "required field 'url'" in error["message"]
    assert error["message"] != "Unexpected error."


async def test_expected_errors_are_not_logged_as_failures(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    body = await harness.post("{ gateways { total } }")

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not [r for r in caplog.records if r.name.startswith("strawberry")]
