"""The inbox's refusal messages, exactly: the route answers them to Telegram in the 400 body,
and they are what an operator reads when a malformed update is logged. Found unasserted by a
mutation run (the existing tests match fragments)."""

from __future__ import annotations

import pytest

from app.webhooks.inbox import MalformedUpdateError, decode_update


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "the body is nested too deeply"),
        (b"[1]", "the body must be a JSON object"),
        (b'{"update_id": "7"}', "update_id must be an integer"),
    ],
)
def test_malformed_update_messages(body: bytes, message: str) -> None:
    with pytest.raises(MalformedUpdateError) as info:
        decode_update(body)
    assert str(info.value) == message


def test_a_body_that_is_not_json_says_why() -> None:
    with pytest.raises(MalformedUpdateError) as info:
        decode_update(b"{nope")
    assert str(info.value).startswith("the body is not JSON (Expecting property name")
