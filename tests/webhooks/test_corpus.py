"""Real Telegram updates from other libraries' test suites, replayed through the webhook route.

Each file in tests/support/corpus/telegram names its source and states, by hand, the inbox row
its payload must give. Every payload is stored exactly once with those fields, and a redelivery
changes nothing; every update kind the Bot API has is in the corpus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import Harness
from tests.support.upstreams import FakeUpstreams
from tests.webhooks.test_routes import (
    TELEGRAM_HOST,
    Bot,
    FakeTelegram,
    connected_bot,
    post_update,
    stored,
)

CORPUS = Path(__file__).parent.parent / "support" / "corpus" / "telegram"
FILES = sorted(CORPUS.glob("*.json"))

# Every kind of update in the Bot API (provider-protocols B.1.4, plus `subscription`), and
# "other" for a kind the server does not know yet. Written out, not imported.
EVERY_KIND = {
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_connection", "business_message", "edited_business_message",
    "deleted_business_messages", "guest_message", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query",
    "shipping_query", "pre_checkout_query", "purchased_paid_media", "subscription", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost", "managed_bot", "other",
}  # fmt: skip


@pytest.fixture
def telegram(upstreams: FakeUpstreams) -> FakeTelegram:
    fake = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, fake)
    return fake


@pytest.fixture
async def any_bot(any_harness: Harness, telegram: FakeTelegram) -> Bot:
    return await connected_bot(any_harness, telegram)


def load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def test_the_corpus_covers_every_update_kind() -> None:
    kinds = {load(path)["expected"]["update_type"] for path in FILES}

    assert kinds == EVERY_KIND


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_names_its_source_and_states_its_expectations(path: Path) -> None:
    case = load(path)

    source = case["source"]
    assert source.get("url") or (source.get("repository") and source.get("path")), source
    assert set(case["expected"]) == {"update_type", "chat_id", "from_user_id", "text"}
    assert isinstance(case["update"], dict)
    assert isinstance(case["update"].get("update_id"), int)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_a_real_update_is_stored_once_with_its_fields(any_bot: Bot, path: Path) -> None:
    case = load(path)
    update, expected = case["update"], case["expected"]
    content = json.dumps(update, ensure_ascii=False).encode()

    first = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)

    assert first.status_code == 200
    [row] = await stored(any_bot.id)
    assert row.update_id == update["update_id"]
    assert {
        "update_type": row.update_type,
        "chat_id": row.chat_id,
        "from_user_id": row.from_user_id,
        "text": row.text,
    } == expected
    assert row.payload == update

    # Telegram redelivers until it sees a 2xx: the same update again is a no-op.
    again = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)

    assert again.status_code == 200
    [same] = await stored(any_bot.id)
    assert (same.id, same.received_at, same.payload) == (row.id, row.received_at, update)
