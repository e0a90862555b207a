"""`/api/webhooks/telegram/{gatewayId}` through the ASGI app: authentication, validation,
exactly-once storage, liveness bookkeeping and the directory cache.

Telegram is a `FakeUpstreams` route; a gateway is connected through GraphQL, and the webhook
secret is the `secret_token` the app sent to setWebhook. Time is a `FakeClock`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from app.audit.models import AuditEvent
from app.core.clock import FakeClock, utcnow
from app.core.ids import uuid7
from app.gateways.enums import GatewayStatus
from app.gateways.models import Gateway
from app.webhooks.models import TelegramUpdate
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams

TELEGRAM_HOST = "api.telegram.test"
BOT_ID = 123456789
BOT_TOKEN = f"{BOT_ID}:AAHk-SECRET_token_value_abcdefghijklm"
OTHER_TOKEN = "987654321:BBHk-OTHER_token_value_abcdefghijklm"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ONE_MIB = 1024 * 1024
BIG_USER = 2**40 + 7
SUPERGROUP = -1001234567890

CREATE = """mutation($input: CreateGatewayInput!) { createGateway(input: $input) {
  __typename ... on Gateway { id } ... on Error { message } } }"""
CONNECT = """mutation($id: ID!) { connectGateway(id: $id) {
  __typename ... on Gateway { id status } ... on Error { message } } }"""
DISCONNECT = """mutation($id: ID!) { disconnectGateway(id: $id) {
  __typename ... on Gateway { id status } ... on Error { message } } }"""
DELETE = """mutation($id: ID!) { deleteGateway(id: $id) {
  __typename ... on DeletedGateway { id } ... on Error { message } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateGatewayInput!) {
  updateGateway(id: $id, input: $input) {
  __typename ... on Gateway { id status } ... on Error { message } } }"""
GATEWAY = "query($id: ID!) { gateway(id: $id) { id status lastConnectedAt } }"


# ---------------------------------------------------------------- fake Telegram


def ok(result: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": result})


@dataclass
class FakeTelegram:
    """getMe, setWebhook, deleteWebhook and getWebhookInfo that always succeed."""

    secrets: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        self.methods.append(method)
        body = json.loads(request.content) if request.content else {}
        if method == "getMe":
            return ok({"id": BOT_ID, "is_bot": True, "first_name": "Bot", "username": "t_bot"})
        if method == "setWebhook":
            self.secrets.append(body["secret_token"])
            return ok(True)
        if method == "deleteWebhook":
            return ok(True)
        if method == "getWebhookInfo":
            return ok({"url": "https://x.test/hook", "pending_update_count": 0})
        return httpx.Response(404, json={"ok": False, "error_code": 404, "description": "no"})


# ---------------------------------------------------------------- helpers (also used elsewhere)


async def create_telegram(h: Harness, token: str, bot_token: str = BOT_TOKEN) -> str:
    data = {
        "name": "Bot",
        "type": "TELEGRAM_BOT",
        "credentials": {"telegramBot": {"botToken": bot_token}},
    }
    result = (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]
    assert result["__typename"] == "Gateway", result
    gateway_id: str = result["id"]
    return gateway_id


async def create_ai(h: Harness, token: str) -> str:
    creds = {"provider": "OPENAI", "apiKey": "sk-test-0123456789abcdef"}
    data = {"name": "AI", "type": "AI", "credentials": {"ai": creds}}
    result = (await h.gql(CREATE, {"input": data}, token=token))["createGateway"]
    assert result["__typename"] == "Gateway", result
    gateway_id: str = result["id"]
    return gateway_id


async def connect(h: Harness, token: str, gateway_id: str, telegram: FakeTelegram) -> str:
    """Connect through GraphQL; returns the webhook secret the app gave Telegram."""
    before = len(telegram.secrets)
    result = (await h.gql(CONNECT, {"id": gateway_id}, token=token))["connectGateway"]
    assert result == {"__typename": "Gateway", "id": gateway_id, "status": "CONNECTED"}
    assert len(telegram.secrets) == before + 1
    return telegram.secrets[-1]


def update(update_id: int = 1, **body: Any) -> dict[str, Any]:
    if not body:
        body = {
            "message": {
                "message_id": 5,
                "date": 1767225600,
                "chat": {"id": SUPERGROUP, "type": "supergroup"},
                "from": {"id": BIG_USER, "is_bot": False, "first_name": "Ann"},
                "text": "hello bot",
            }
        }
    return {"update_id": update_id, **body}


def url(gateway_id: str) -> str:
    return f"/api/webhooks/telegram/{gateway_id}"


async def post_update(
    h: Harness,
    gateway_id: str,
    secret: str | None,
    payload: Any = None,
    *,
    content: bytes | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    if content is None:
        content = json.dumps(update() if payload is None else payload).encode()
    return await h.client.post(url(gateway_id), content=content, headers=headers)


async def stored(gateway_id: str | UUID) -> list[TelegramUpdate]:
    return await TelegramUpdate.filter(gateway_id=gateway_id).order_by("update_id")


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
def telegram(upstreams: FakeUpstreams) -> FakeTelegram:
    fake = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, fake)
    return fake


@dataclass
class Bot:
    h: Harness
    token: str
    id: str
    secret: str


async def connected_bot(h: Harness, telegram: FakeTelegram) -> Bot:
    token = await h.register("owner@example.test", "Owner")
    gateway_id = await create_telegram(h, token)
    secret = await connect(h, token, gateway_id, telegram)
    return Bot(h, token, gateway_id, secret)


@pytest.fixture
async def bot(harness: Harness, telegram: FakeTelegram) -> Bot:
    return await connected_bot(harness, telegram)


@pytest.fixture
async def any_bot(any_harness: Harness, telegram: FakeTelegram) -> Bot:
    return await connected_bot(any_harness, telegram)


# ---------------------------------------------------------------- accepting an update


async def test_a_valid_update_is_stored_with_its_fields(any_bot: Bot, clock: FakeClock) -> None:
    payload = update(424242)

    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, payload)

    assert response.status_code == 200
    assert response.content == b""
    [row] = await stored(any_bot.id)
    assert row.gateway_id == UUID(any_bot.id)
    assert row.update_id == 424242
    assert row.update_type == "message"
    assert row.chat_id == SUPERGROUP
    assert row.from_user_id == BIG_USER
    assert row.text == "hello bot"
    assert row.payload == payload
    assert row.received_at == clock.now()
    assert row.processed_at is None


async def test_64_bit_ids_survive_the_round_trip(any_bot: Bot) -> None:
    payload = {
        "update_id": 2**62,
        "message": {
            "chat": {"id": -(2**62)},
            "from": {"id": 2**53 + 1},
            "text": "big",
        },
    }

    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, payload)

    assert response.status_code == 200
    [row] = await stored(any_bot.id)
    assert (row.update_id, row.chat_id, row.from_user_id) == (2**62, -(2**62), 2**53 + 1)
    assert row.payload == payload


async def test_an_unknown_update_type_is_stored_as_other(any_bot: Bot) -> None:
    payload = {"update_id": 9, "guest_visit_2030": {"chat": {"id": 1}, "text": "hi"}}

    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, payload)

    assert response.status_code == 200
    [row] = await stored(any_bot.id)
    assert row.update_type == "other"
    assert row.payload == payload
    assert (row.chat_id, row.from_user_id, row.text) == (None, None, None)


async def test_a_redelivered_update_is_stored_once(any_bot: Bot) -> None:
    first = await post_update(any_bot.h, any_bot.id, any_bot.secret, update(7))
    again = await post_update(
        any_bot.h, any_bot.id, any_bot.secret, update(7, edited_message={"text": "changed"})
    )

    assert (first.status_code, again.status_code) == (200, 200)
    [row] = await stored(any_bot.id)
    assert row.update_type == "message"  # the first delivery wins
    assert row.text == "hello bot"


async def test_the_same_update_id_on_two_gateways_is_two_rows(
    harness: Harness, telegram: FakeTelegram
) -> None:
    token = await harness.register("owner@example.test")
    first = await create_telegram(harness, token)
    second = await create_telegram(harness, token, OTHER_TOKEN)
    secret_1 = await connect(harness, token, first, telegram)
    secret_2 = await connect(harness, token, second, telegram)

    assert (await post_update(harness, first, secret_1, update(1))).status_code == 200
    assert (await post_update(harness, second, secret_2, update(1))).status_code == 200

    assert [r.update_id for r in await stored(first)] == [1]
    assert [r.update_id for r in await stored(second)] == [1]


async def test_the_same_update_posted_100_times_concurrently_is_stored_once(
    any_bot: Bot,
) -> None:
    responses = await asyncio.gather(
        *(post_update(any_bot.h, any_bot.id, any_bot.secret, update(555)) for _ in range(100))
    )

    assert [r.status_code for r in responses] == [200] * 100
    rows = await stored(any_bot.id)
    assert [r.update_id for r in rows] == [555]


async def test_100_different_updates_posted_concurrently_are_all_stored(any_bot: Bot) -> None:
    responses = await asyncio.gather(
        *(post_update(any_bot.h, any_bot.id, any_bot.secret, update(i)) for i in range(100))
    )

    assert [r.status_code for r in responses] == [200] * 100
    assert [r.update_id for r in await stored(any_bot.id)] == list(range(100))


# ---------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("wrong-secret_0123456789abcdefghijklmnopqrstu", id="wrong"),
    ],
)
async def test_a_missing_or_wrong_secret_is_refused(any_bot: Bot, secret: str | None) -> None:
    response = await post_update(any_bot.h, any_bot.id, secret, update(1))

    assert response.status_code == 401
    assert await stored(any_bot.id) == []


async def test_the_secrets_hash_is_not_a_valid_secret(bot: Bot) -> None:
    row = await Gateway.get(id=bot.id)
    assert row.webhook_secret_hash is not None

    response = await post_update(bot.h, bot.id, row.webhook_secret_hash, update(1))

    assert response.status_code == 401
    assert await stored(bot.id) == []


async def test_another_gateways_secret_is_refused(harness: Harness, telegram: FakeTelegram) -> None:
    token = await harness.register("owner@example.test")
    first = await create_telegram(harness, token)
    second = await create_telegram(harness, token, OTHER_TOKEN)
    secret_1 = await connect(harness, token, first, telegram)
    await connect(harness, token, second, telegram)

    response = await post_update(harness, second, secret_1, update(1))

    assert response.status_code == 401
    assert await stored(second) == []


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "anything",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256("")
    ],
)
async def test_a_gateway_never_connected_accepts_nothing(
    harness: Harness, secret: str | None
) -> None:
    token = await harness.register("owner@example.test")
    gateway_id = await create_telegram(harness, token)
    assert (await Gateway.get(id=gateway_id)).webhook_secret_hash is None

    response = await post_update(harness, gateway_id, secret, update(1))

    assert response.status_code == 401
    assert await stored(gateway_id) == []


async def test_the_secret_is_checked_before_the_body_is_read(bot: Bot) -> None:
    response = await post_update(bot.h, bot.id, "wrong", content=b"{not json")

    assert response.status_code == 401


# ---------------------------------------------------------------- malformed requests


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'{"update_id": "12"}', id="update-id-string"),
        pytest.param(b'{"update_id": 1.5}', id="update-id-float"),
        pytest.param(b'{"update_id": true}', id="update-id-bool"),
        pytest.param(b'{"update_id": null}', id="update-id-null"),
        pytest.param(b'{"message": {"text": "hi"}}', id="update-id-missing"),
        pytest.param(b'{"update_id": 99999999999999999999}', id="update-id-beyond-64-bits"),
        pytest.param(b'[{"update_id": 1}]', id="array"),
        pytest.param(b'"text"', id="string"),
    ],
)
async def test_a_malformed_update_is_a_bad_request(any_bot: Bot, content: bytes) -> None:
    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)

    assert response.status_code == 400
    assert await stored(any_bot.id) == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"NaN", id="nan"),
        pytest.param(b"Infinity", id="infinity"),
        pytest.param(b"-Infinity", id="minus-infinity"),
        pytest.param(b"1e400", id="number-beyond-a-double"),
        pytest.param(b"-1e400", id="negative-number-beyond-a-double"),
    ],
)
async def test_nan_and_infinity_are_refused_on_every_database(any_bot: Bot, value: bytes) -> None:
    # Not JSON (RFC 8259). SQLite stored it and later served invalid JSON; PostgreSQL refused
    # the row, a 503 on every redelivery, so Telegram retried it for a day.
    content = b'{"update_id": 8, "message": {"chat": {"id": 1}, "text": "x", "v": ' + value + b"}}"

    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)

    assert response.status_code == 400
    assert await stored(any_bot.id) == []
    # The next update of that chat goes through.
    assert (await post_update(any_bot.h, any_bot.id, any_bot.secret, update(9))).status_code == 200


async def test_a_deeply_nested_body_is_a_bad_request_not_a_crash(any_bot: Bot) -> None:
    content = b'{"update_id": 1, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"

    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)

    assert response.status_code == 400
    assert await stored(any_bot.id) == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\\u0000", id="nul"),
        pytest.param(b"\\ud800", id="lone-surrogate-escape"),
        pytest.param(b"\xed\xb0\x80", id="utf8-encoded-surrogate"),
    ],
)
async def test_an_update_with_unstorable_characters_is_stored_not_refused_forever(
    any_bot: Bot, raw: bytes
) -> None:
    # A 503 here would be answered to every redelivery: Telegram would retry it for a day.
    content = b'{"update_id": 5, "message": {"chat": {"id": 1}, "text": "a' + raw + b'b"}}'

    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)

    assert response.status_code == 200
    [row] = await stored(any_bot.id)
    assert row.text == "a\ufffdb"
    assert row.payload == {"update_id": 5, "message": {"chat": {"id": 1}, "text": "a\ufffdb"}}


async def test_non_ascii_text_is_stored_as_sent(any_bot: Bot) -> None:
    text = (
        "Grüße 👋 — \u4f60\u597d \ud55c\uad6d\uc5b4"  # Korean syllables sit right below surrogates
    )
    payload = update(6)
    payload["message"]["text"] = text

    for ensure_ascii in (True, False):
        content = json.dumps(payload, ensure_ascii=ensure_ascii).encode()
        response = await post_update(any_bot.h, any_bot.id, any_bot.secret, content=content)
        assert response.status_code == 200

    [row] = await stored(any_bot.id)
    assert row.text == text
    assert row.payload == payload


async def test_a_body_over_one_mib_is_refused(bot: Bot) -> None:
    payload = update(1)
    payload["message"]["text"] = "x" * ONE_MIB

    response = await post_update(bot.h, bot.id, bot.secret, payload)

    assert response.status_code == 413
    assert await stored(bot.id) == []


async def test_a_chunked_body_over_one_mib_is_refused(bot: Bot) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"update_id": 1, "message": {"text": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}}'

    response = await bot.h.client.post(
        url(bot.id), content=chunks(), headers={SECRET_HEADER: bot.secret}
    )

    assert response.status_code == 413
    assert await stored(bot.id) == []


def padded(payload: dict[str, Any], size: int) -> bytes:
    raw = json.dumps(payload).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


async def test_a_body_of_exactly_one_mib_is_accepted(bot: Bot) -> None:
    content = padded(update(1), ONE_MIB)
    assert len(content) == ONE_MIB

    response = await post_update(bot.h, bot.id, bot.secret, content=content)

    assert response.status_code == 200
    assert len(await stored(bot.id)) == 1


async def test_the_webhook_limit_holds_when_the_global_limit_is_higher(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, telegram: FakeTelegram
) -> None:
    settings = make_settings(database_url, str(tmp_path), max_request_bytes=4 * ONE_MIB)
    async with running_app(settings, upstream_transport=upstreams.transport()) as h:
        b = await connected_bot(h, telegram)

        too_big = await post_update(h, b.id, b.secret, content=padded(update(1), ONE_MIB + 1))
        fits = await post_update(h, b.id, b.secret, content=padded(update(2), ONE_MIB))

        assert too_big.status_code == 413
        assert fits.status_code == 200
        assert [r.update_id for r in await stored(b.id)] == [2]


# ---------------------------------------------------------------- unknown gateways


async def test_an_unknown_gateway_is_not_found(any_bot: Bot) -> None:
    unknown = str(uuid7())

    response = await any_bot.h.client.post(
        url(unknown), json=update(1), headers={SECRET_HEADER: any_bot.secret}
    )

    assert response.status_code == 404
    assert await TelegramUpdate.all().count() == 0


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g"])
async def test_a_malformed_gateway_id_is_not_found(bot: Bot, bad_id: str) -> None:
    response = await bot.h.client.post(
        url(bad_id), json=update(1), headers={SECRET_HEADER: bot.secret}
    )

    assert response.status_code == 404


async def test_an_ai_gateway_is_not_a_webhook_target(any_bot: Bot) -> None:
    ai_id = await create_ai(any_bot.h, any_bot.token)
    # Even with a secret hash on the row (which an AI gateway never gets), it is not Telegram.
    await Gateway.filter(id=ai_id).update(
        webhook_secret_hash=(await Gateway.get(id=any_bot.id)).webhook_secret_hash
    )

    response = await any_bot.h.client.post(
        url(ai_id), json=update(1), headers={SECRET_HEADER: any_bot.secret}
    )

    assert response.status_code == 404
    assert await TelegramUpdate.all().count() == 0


async def test_a_deleted_gateway_is_not_found_at_once(bot: Bot) -> None:
    assert (await post_update(bot.h, bot.id, bot.secret, update(1))).status_code == 200

    result = (await bot.h.gql(DELETE, {"id": bot.id}, token=bot.token))["deleteGateway"]
    assert result == {"__typename": "DeletedGateway", "id": bot.id}

    response = await post_update(bot.h, bot.id, bot.secret, update(2))
    assert response.status_code == 404
    assert await TelegramUpdate.all().count() == 0  # cascaded with the gateway


# ---------------------------------------------------------------- methods other than POST

NOT_POST = ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]


@pytest.mark.parametrize("method", NOT_POST)
async def test_only_post_is_allowed(any_bot: Bot, method: str) -> None:
    # Telegram only POSTs. A GET used to answer {"id", "status"} to anyone who knew the URL.
    response = await any_bot.h.client.request(
        method, url(any_bot.id), headers={SECRET_HEADER: any_bot.secret}
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert b"CONNECTED" not in response.content
    assert await stored(any_bot.id) == []


@pytest.mark.parametrize("method", NOT_POST)
async def test_other_methods_do_not_tell_known_from_unknown_gateways(bot: Bot, method: str) -> None:
    known = await bot.h.client.request(method, url(bot.id))
    unknown = await bot.h.client.request(method, url(str(uuid7())))
    malformed = await bot.h.client.request(method, url("not-a-uuid"))

    assert known.status_code == unknown.status_code == malformed.status_code == 405
    assert known.content == unknown.content == malformed.content


async def test_a_cors_preflight_reveals_nothing_either(bot: Bot) -> None:
    headers = {"Origin": "https://spa.example", "Access-Control-Request-Method": "GET"}

    known = await bot.h.client.options(url(bot.id), headers=headers)
    unknown = await bot.h.client.options(url(str(uuid7())), headers=headers)

    assert known.status_code == unknown.status_code
    assert known.content == unknown.content
    assert b"CONNECTED" not in known.content


# ---------------------------------------------------------------- storage failure


async def test_a_storage_failure_answers_503_and_acknowledges_nothing(
    any_bot: Bot, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.advance(3600)  # last seen long ago: a stored update would refresh lastConnectedAt
    before = (await Gateway.get(id=any_bot.id)).last_connected_at

    async def broken_store(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr("app.webhooks.routes.store_update", broken_store)
    response = await post_update(any_bot.h, any_bot.id, any_bot.secret, update(77))

    assert response.status_code == 503
    assert await stored(any_bot.id) == []
    assert (await Gateway.get(id=any_bot.id)).last_connected_at == before

    # Telegram delivers it again once storage is back: stored exactly once.
    monkeypatch.undo()
    retry = await post_update(any_bot.h, any_bot.id, any_bot.secret, update(77))
    assert retry.status_code == 200
    assert [r.update_id for r in await stored(any_bot.id)] == [77]


async def test_a_failure_after_storing_still_acknowledges(
    bot: Bot, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.advance(3600)

    async def broken_mark_alive(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr("app.webhooks.routes._mark_alive", broken_mark_alive)
    response = await post_update(bot.h, bot.id, bot.secret, update(78))

    # The update is committed: a non-2xx would make Telegram deliver it again for nothing.
    assert response.status_code == 200
    assert [r.update_id for r in await stored(bot.id)] == [78]


# ---------------------------------------------------------------- liveness


async def last_connected(gateway_id: str) -> Any:
    return (await Gateway.get(id=gateway_id)).last_connected_at


async def test_last_connected_at_is_refreshed_at_most_once_a_minute(
    any_bot: Bot, clock: FakeClock
) -> None:
    connected_at = await last_connected(any_bot.id)
    assert connected_at == clock.now()

    clock.advance(61)
    assert (await post_update(any_bot.h, any_bot.id, any_bot.secret, update(1))).status_code == 200
    first_refresh = clock.now()
    assert await last_connected(any_bot.id) == first_refresh

    clock.advance(30)
    assert (await post_update(any_bot.h, any_bot.id, any_bot.secret, update(2))).status_code == 200
    assert await last_connected(any_bot.id) == first_refresh

    clock.advance(31)  # 61 s after the last refresh
    assert (await post_update(any_bot.h, any_bot.id, any_bot.secret, update(3))).status_code == 200
    assert await last_connected(any_bot.id) == clock.now()
    assert len(await stored(any_bot.id)) == 3


async def test_last_connected_at_refresh_is_visible_through_graphql(
    bot: Bot, clock: FakeClock
) -> None:
    clock.advance(120)

    await post_update(bot.h, bot.id, bot.secret, update(1))

    gateway = (await bot.h.gql(GATEWAY, {"id": bot.id}, token=bot.token))["gateway"]
    assert gateway["status"] == "CONNECTED"
    assert gateway["lastConnectedAt"] is not None
    assert gateway["lastConnectedAt"].startswith(clock.now().isoformat()[:19])


async def test_refreshing_last_connected_at_does_not_publish_status_events(
    bot: Bot, clock: FakeClock
) -> None:
    clock.advance(120)
    async with bot.h.services.broker.subscribe() as events:
        await post_update(bot.h, bot.id, bot.secret, update(1))

        assert events.pending == 0
    assert await AuditEvent.filter(gateway_id=bot.id, action="gateway.status_change").count() == 2


async def test_a_valid_update_brings_a_failing_gateway_back_to_connected(
    any_bot: Bot, clock: FakeClock
) -> None:
    services = any_bot.h.services
    await services.gateways.status.change(
        UUID(any_bot.id), GatewayStatus.ERROR, error="UNAVAILABLE: down", cause="health_check"
    )
    clock.advance(5)

    async with services.broker.subscribe() as events:
        response = await post_update(any_bot.h, any_bot.id, any_bot.secret, update(1))
        assert response.status_code == 200
        assert events.pending == 1
        event = await asyncio.wait_for(anext(events), 1)
        # A second update finds the gateway CONNECTED: no further change, no further event.
        assert (
            await post_update(any_bot.h, any_bot.id, any_bot.secret, update(2))
        ).status_code == 200
        assert events.pending == 0

    assert event.gateway_id == UUID(any_bot.id)
    assert event.previous_status is GatewayStatus.ERROR
    assert event.status is GatewayStatus.CONNECTED
    row = await Gateway.get(id=any_bot.id)
    assert row.status is GatewayStatus.CONNECTED
    assert row.last_connected_at == clock.now()
    changes = await AuditEvent.filter(
        gateway_id=any_bot.id, action="gateway.status_change"
    ).order_by("created_at", "id")
    [change] = [e for e in changes if e.metadata["cause"] == "webhook"]
    assert change.metadata == {
        "previousStatus": "ERROR",
        "status": "CONNECTED",
        "error": None,
        "cause": "webhook",
    }
    assert change.actor_id is None
    assert changes[-1] == change
    assert [r.update_id for r in await stored(any_bot.id)] == [1, 2]


async def test_concurrent_updates_bring_a_failing_gateway_back_with_one_event(
    any_bot: Bot,
) -> None:
    services = any_bot.h.services
    await services.gateways.status.change(
        UUID(any_bot.id), GatewayStatus.ERROR, error="UNAVAILABLE: down", cause="health_check"
    )

    async with services.broker.subscribe() as events:
        responses = await asyncio.gather(
            *(post_update(any_bot.h, any_bot.id, any_bot.secret, update(i)) for i in range(20))
        )
        assert [r.status_code for r in responses] == [200] * 20
        assert events.pending == 1

    assert (await Gateway.get(id=any_bot.id)).status is GatewayStatus.CONNECTED
    changes = await AuditEvent.filter(gateway_id=any_bot.id, action="gateway.status_change")
    assert [e.metadata["cause"] for e in changes].count("webhook") == 1
    assert len(await stored(any_bot.id)) == 20


async def test_an_update_does_not_reconnect_a_disconnected_gateway(bot: Bot) -> None:
    # Set by hand, secret left in place: the webhook accepts, but the status is the user's call.
    await bot.h.services.gateways.status.change(
        UUID(bot.id), GatewayStatus.DISCONNECTED, cause="mutation"
    )

    response = await post_update(bot.h, bot.id, bot.secret, update(1))

    assert response.status_code == 200
    assert (await Gateway.get(id=bot.id)).status is GatewayStatus.DISCONNECTED


# ---------------------------------------------------------------- the directory cache


async def test_disconnect_refuses_the_old_secret_at_once(any_bot: Bot) -> None:
    h = any_bot.h
    # Cached by a first accepted update.
    assert (await post_update(h, any_bot.id, any_bot.secret, update(1))).status_code == 200

    result = (await h.gql(DISCONNECT, {"id": any_bot.id}, token=any_bot.token))["disconnectGateway"]
    assert result["status"] == "DISCONNECTED"

    response = await post_update(h, any_bot.id, any_bot.secret, update(2))
    assert response.status_code == 401
    assert [r.update_id for r in await stored(any_bot.id)] == [1]
    assert (await Gateway.get(id=any_bot.id)).status is GatewayStatus.DISCONNECTED


async def test_reconnect_replaces_the_secret_at_once(bot: Bot, telegram: FakeTelegram) -> None:
    assert (await post_update(bot.h, bot.id, bot.secret, update(1))).status_code == 200

    new_secret = await connect(bot.h, bot.token, bot.id, telegram)

    assert new_secret != bot.secret
    assert (await post_update(bot.h, bot.id, bot.secret, update(2))).status_code == 401
    assert (await post_update(bot.h, bot.id, new_secret, update(3))).status_code == 200
    assert [r.update_id for r in await stored(bot.id)] == [1, 3]


async def test_new_credentials_void_the_old_secret_at_once(bot: Bot) -> None:
    assert (await post_update(bot.h, bot.id, bot.secret, update(1))).status_code == 200

    changes = {"credentials": {"telegramBot": {"botToken": OTHER_TOKEN}}}
    result = (await bot.h.gql(UPDATE, {"id": bot.id, "input": changes}, token=bot.token))[
        "updateGateway"
    ]
    assert result["status"] == "DISCONNECTED"

    assert (await post_update(bot.h, bot.id, bot.secret, update(2))).status_code == 401
    assert [r.update_id for r in await stored(bot.id)] == [1]
