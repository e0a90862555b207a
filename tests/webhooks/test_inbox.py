"""`parse_update`: what the inbox stores from a Telegram update, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from app.webhooks.inbox import TEXT_MAX, MalformedUpdateError, decode_update, parse_update

BIG_USER = 2**40 + 7  # above 2**32: user ids no longer fit 32 bits
SUPERGROUP = -1001234567890  # supergroup and channel ids are negative and beyond 32 bits
CHANNEL = -1009876543210


def user(uid: int = 42) -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": "Ann"}


def message(chat_id: int = 100, sender: int | None = 42, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": 7, "date": 1767225600, "chat": {"id": chat_id}}
    if sender is not None:
        body["from"] = user(sender)
    return {**body, **extra}


@pytest.mark.parametrize("kind", ["message", "edited_message", "channel_post"])
def test_message_like_updates(kind: str) -> None:
    payload = {"update_id": 10, kind: message(chat_id=SUPERGROUP, sender=BIG_USER, text="hi")}

    update = parse_update(payload)

    assert update.update_id == 10
    assert update.update_type == kind
    assert update.chat_id == SUPERGROUP
    assert update.from_user_id == BIG_USER
    assert update.text == "hi"
    assert update.payload is payload


def test_channel_post_without_sender() -> None:
    update = parse_update({"update_id": 1, "channel_post": message(CHANNEL, None, text="news")})

    assert update.update_type == "channel_post"
    assert update.chat_id == CHANNEL
    assert update.from_user_id is None


def test_caption_is_the_text_of_a_media_message() -> None:
    body = message(caption="a photo", photo=[{"file_id": "x"}])

    update = parse_update({"update_id": 2, "message": body})

    assert update.text == "a photo"


def test_message_without_text_or_caption() -> None:
    update = parse_update({"update_id": 2, "message": message(sticker={"file_id": "s"})})

    assert update.text is None


def test_long_text_is_cut() -> None:
    update = parse_update({"update_id": 3, "message": message(text="x" * (TEXT_MAX + 500))})

    assert update.text == "x" * TEXT_MAX


def test_non_string_text_is_ignored() -> None:
    update = parse_update({"update_id": 3, "message": message(text={"not": "text"})})

    assert update.text is None


def test_callback_query_takes_the_chat_of_its_message_and_the_presser_as_sender() -> None:
    payload = {
        "update_id": 20,
        "callback_query": {
            "id": "cbq-1",
            "from": user(BIG_USER),
            "chat_instance": "ci",
            "data": "button:1",
            "message": message(chat_id=SUPERGROUP, sender=999, text="Pick one"),
        },
    }

    update = parse_update(payload)

    assert update.update_type == "callback_query"
    assert update.chat_id == SUPERGROUP
    assert update.from_user_id == BIG_USER  # who pressed, not who sent the message
    assert update.text == "button:1"  # what was pressed, not the bot's own message


def test_callback_query_without_data_falls_back_to_its_message_text() -> None:
    payload = {
        "update_id": 22,
        "callback_query": {
            "id": "c",
            "from": user(5),
            "game_short_name": "tetris",
            "message": message(chat_id=7, sender=999, text="Play!"),
        },
    }

    update = parse_update(payload)

    assert (update.chat_id, update.from_user_id, update.text) == (7, 5, "Play!")


def test_callback_query_without_message_uses_its_data() -> None:
    payload = {
        "update_id": 21,
        "callback_query": {"id": "c", "from": user(5), "inline_message_id": "i", "data": "go"},
    }

    update = parse_update(payload)

    assert update.chat_id is None
    assert update.from_user_id == 5
    assert update.text == "go"


def test_my_chat_member() -> None:
    payload = {
        "update_id": 30,
        "my_chat_member": {
            "chat": {"id": SUPERGROUP, "type": "supergroup"},
            "from": user(BIG_USER),
            "date": 1767225600,
            "old_chat_member": {"status": "left", "user": user(1)},
            "new_chat_member": {"status": "member", "user": user(1)},
        },
    }

    update = parse_update(payload)

    assert update.update_type == "my_chat_member"
    assert update.chat_id == SUPERGROUP
    assert update.from_user_id == BIG_USER
    assert update.text is None


def test_message_reaction_sender_is_its_user() -> None:
    payload = {
        "update_id": 40,
        "message_reaction": {
            "chat": {"id": -100555},
            "message_id": 3,
            "user": user(BIG_USER),
            "date": 1767225600,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }

    update = parse_update(payload)

    assert update.update_type == "message_reaction"
    assert update.chat_id == -100555
    assert update.from_user_id == BIG_USER


def test_anonymous_reaction_has_no_sender() -> None:
    payload = {
        "update_id": 41,
        "message_reaction": {"chat": {"id": -100555}, "actor_chat": {"id": -100555}},
    }

    update = parse_update(payload)

    assert update.from_user_id is None
    assert update.chat_id == -100555


def test_inline_query_text_is_the_query() -> None:
    payload = {"update_id": 50, "inline_query": {"id": "q", "from": user(8), "query": "cats"}}

    update = parse_update(payload)

    assert update.update_type == "inline_query"
    assert update.text == "cats"
    assert update.from_user_id == 8
    assert update.chat_id is None


def test_a_poll_update_text_is_its_question() -> None:
    payload = {
        "update_id": 30,
        "poll": {"id": "p1", "question": "Lunch?", "options": [{"text": "Yes", "voter_count": 1}]},
    }

    update = parse_update(payload)

    assert (update.update_type, update.chat_id, update.from_user_id) == ("poll", None, None)
    assert update.text == "Lunch?"


@pytest.mark.parametrize(
    "payload",
    [
        {
            "update_id": 31,
            "chat_boost": {
                "chat": {"id": CHANNEL, "type": "channel"},
                "boost": {
                    "boost_id": "b1",
                    "add_date": 1,
                    "expiration_date": 2,
                    "source": {"source": "premium", "user": user(BIG_USER)},
                },
            },
        },
        {
            "update_id": 31,
            "removed_chat_boost": {
                "chat": {"id": CHANNEL, "type": "channel"},
                "boost_id": "b1",
                "remove_date": 3,
                "source": {"source": "gift_code", "user": user(BIG_USER)},
            },
        },
    ],
    ids=["chat_boost", "removed_chat_boost"],
)
def test_a_boost_sender_is_its_booster(payload: dict[str, Any]) -> None:
    update = parse_update(payload)

    assert (update.chat_id, update.from_user_id) == (CHANNEL, BIG_USER)


def test_a_giveaway_boost_without_a_user_has_no_sender() -> None:
    boost = {"boost_id": "b", "add_date": 1, "expiration_date": 2}
    boost["source"] = {"source": "giveaway", "giveaway_message_id": 5}
    payload = {"update_id": 32, "chat_boost": {"chat": {"id": CHANNEL}, "boost": boost}}

    assert parse_update(payload).from_user_id is None


def test_a_subscription_update_is_its_own_kind_with_its_user() -> None:
    payload = {
        "update_id": 33,
        "subscription": {"user": user(BIG_USER), "invoice_payload": "p", "state": "canceled"},
    }

    update = parse_update(payload)

    assert (update.update_type, update.from_user_id, update.chat_id) == (
        "subscription",
        BIG_USER,
        None,
    )


def test_unknown_future_update_kind_is_other() -> None:
    payload = {"update_id": 60, "teleportation_request": {"chat": {"id": 1}, "from": user(2)}}

    update = parse_update(payload)

    assert update.update_type == "other"
    assert update.chat_id is None
    assert update.from_user_id is None
    assert update.text is None
    assert update.payload == payload


def test_update_with_only_an_id_is_other() -> None:
    assert parse_update({"update_id": 61}).update_type == "other"


def test_ids_outside_64_bits_are_dropped_not_wrapped() -> None:
    payload = {"update_id": 70, "message": message(chat_id=2**63, sender=-(2**63) - 1)}

    update = parse_update(payload)

    assert update.chat_id is None
    assert update.from_user_id is None


def test_ids_at_the_64_bit_limits_are_kept() -> None:
    payload = {"update_id": 2**63 - 1, "message": message(chat_id=-(2**63), sender=2**63 - 1)}

    update = parse_update(payload)

    assert update.update_id == 2**63 - 1
    assert update.chat_id == -(2**63)
    assert update.from_user_id == 2**63 - 1


@pytest.mark.parametrize("bad", ["100", "1", True, False, 1.5, 1.0, None, [1], {"id": 1}, 2**63])
def test_update_id_must_be_a_64_bit_integer(bad: Any) -> None:
    with pytest.raises(MalformedUpdateError, match="update_id"):
        parse_update({"update_id": bad, "message": message(text="hi")})


def test_missing_update_id() -> None:
    with pytest.raises(MalformedUpdateError, match="update_id"):
        parse_update({"message": message(text="hi")})


@pytest.mark.parametrize("body", [[{"update_id": 1}], "update", 1, None, True])
def test_body_must_be_an_object(body: Any) -> None:
    with pytest.raises(MalformedUpdateError, match="object"):
        parse_update(body)


def test_malformed_update_error_is_a_value_error() -> None:
    # The route answers 400 for ValueError (bad JSON) and MalformedUpdateError alike.
    assert issubclass(MalformedUpdateError, ValueError)


def test_a_non_object_update_body_is_tolerated() -> None:
    update = parse_update({"update_id": 80, "message": "not an object"})

    assert update.update_type == "message"
    assert update.chat_id is None
    assert update.from_user_id is None
    assert update.text is None


def test_non_integer_chat_id_is_dropped() -> None:
    payload = {"update_id": 81, "message": message(chat_id=1, sender=2) | {"chat": {"id": "1"}}}

    update = parse_update(payload)

    assert update.chat_id is None
    assert update.from_user_id == 2


# ---------------------------------------------------------------- decode_update (raw bodies)


def test_decode_a_body() -> None:
    body = b'{"update_id": 5, "message": {"chat": {"id": -100}, "text": "caf\xc3\xa9 \\u00e9"}}'

    update = decode_update(body)

    assert (update.update_id, update.chat_id, update.text) == (5, -100, "caf\u00e9 \u00e9")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"\xff\xfe\x00", id="not-text"),
        pytest.param(b'{"update_id": 1,}', id="trailing-comma"),
        pytest.param(b'{"update_id": NaN}', id="nan"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-too-deeply"),
        pytest.param(b'{"update_id": 1, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", id="deep"),
    ],
)
def test_decode_refuses_what_is_not_an_update(body: bytes) -> None:
    with pytest.raises(MalformedUpdateError):
        decode_update(body)


def test_decode_replaces_nul_which_no_postgresql_column_takes() -> None:
    body = b'{"update_id": 1, "message": {"text": "a\\u0000b", "k\\u0000": ["\\u0000"]}}'

    update = decode_update(body)

    assert update.text == "a\ufffdb"
    assert update.payload == {
        "update_id": 1,
        "message": {"text": "a\ufffdb", "k\ufffd": ["\ufffd"]},
    }


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\\ud800", id="escaped-high"),
        pytest.param(b"\\uDC00", id="escaped-low"),
        pytest.param(b"\xed\xa0\x80", id="utf8-encoded-surrogate"),
    ],
)
def test_decode_replaces_lone_surrogates_which_cannot_be_encoded(raw: bytes) -> None:
    body = b'{"update_id": 1, "message": {"text": "x' + raw + b'y"}}'

    update = decode_update(body)

    assert update.text == "x\ufffdy"
    assert update.text.encode("utf-8")
    assert update.payload["message"]["text"] == "x\ufffdy"


def test_decode_keeps_escaped_surrogate_pairs() -> None:
    update = decode_update(b'{"update_id": 1, "message": {"text": "\\ud83d\\ude00 ok"}}')

    assert update.text == "\U0001f600 ok"
