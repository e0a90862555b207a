"""The webhook route's response texts and log events, exactly.

Telegram shows the body of a failed delivery in getWebhookInfo's `last_error_message`, so the
texts are what an operator reads there; the log events carry the gateway id to find the bot.
Found unasserted by a mutation run (the existing tests check status codes).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from app.core.clock import FakeClock, utcnow
from app.core.ids import uuid7
from tests.support.harness import Harness, make_settings, running_app
from tests.support.upstreams import FakeUpstreams
from tests.webhooks.test_routes import (
    ONE_MIB,
    TELEGRAM_HOST,
    Bot,
    FakeTelegram,
    connected_bot,
    create_ai,
    padded,
    post_update,
    update,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=utcnow())


@pytest.fixture
def telegram(upstreams: FakeUpstreams) -> FakeTelegram:
    fake = FakeTelegram()
    upstreams.route(TELEGRAM_HOST, fake)
    return fake


@pytest.fixture
async def bot(harness: Harness, telegram: FakeTelegram) -> Bot:
    return await connected_bot(harness, telegram)


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == name]


@pytest.mark.parametrize("gateway", ["unknown", "not-a-uuid", "ai"])
async def test_not_found_text(bot: Bot, gateway: str) -> None:
    ids = {"unknown": str(uuid7()), "not-a-uuid": "nope", "ai": await create_ai(bot.h, bot.token)}

    response = await post_update(bot.h, ids[gateway], bot.secret)

    assert (response.status_code, response.text) == (404, "Unknown gateway.")


@pytest.mark.parametrize("secret", [None, "", "wrong"])
async def test_unauthorized_text_and_log(
    bot: Bot, secret: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.webhooks"):
        response = await post_update(bot.h, bot.id, secret)

    assert (response.status_code, response.text) == (401, "Invalid secret token.")
    [record] = events(caplog, "webhook.telegram.unauthorized")
    assert record.__dict__["gateway_id"] == bot.id


async def test_too_large_text(bot: Bot) -> None:
    # The app-wide limit answers first, in the GraphQL error shape it uses for every route.
    response = await post_update(bot.h, bot.id, bot.secret, content=padded(update(1), ONE_MIB + 1))

    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {"message": "Request body too large.", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}
        ]
    }


async def test_malformed_text(bot: Bot) -> None:
    response = await post_update(bot.h, bot.id, bot.secret, content=b"[1]")

    assert (response.status_code, response.text) == (
        400,
        "Malformed update: the body must be a JSON object",
    )


async def test_storage_failure_text_and_log(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_store(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr("app.webhooks.routes.store_update", broken_store)
    with caplog.at_level(logging.ERROR, logger="app.webhooks"):
        response = await post_update(bot.h, bot.id, bot.secret, update(5))

    assert (response.status_code, response.text) == (503, "Storage unavailable.")
    [record] = events(caplog, "webhook.telegram.store_failed")
    assert record.__dict__["gateway_id"] == bot.id


async def test_liveness_failure_is_logged_with_the_gateway(
    bot: Bot, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_mark_alive(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr("app.webhooks.routes._mark_alive", broken_mark_alive)
    with caplog.at_level(logging.ERROR, logger="app.webhooks"):
        response = await post_update(bot.h, bot.id, bot.secret, update(6))

    assert response.status_code == 200
    [record] = events(caplog, "webhook.telegram.mark_alive_failed")
    assert record.__dict__["gateway_id"] == bot.id


async def test_too_large_text_from_the_route_itself(
    database_url: str, tmp_path: Path, upstreams: FakeUpstreams, telegram: FakeTelegram
) -> None:
    # With a higher global limit the request passes the middleware: the route's own 1 MiB
    # check answers.
    settings = make_settings(database_url, str(tmp_path), max_request_bytes=4 * ONE_MIB)
    async with running_app(settings, upstream_transport=upstreams.transport()) as h:
        b = await connected_bot(h, telegram)
        response = await post_update(h, b.id, b.secret, content=padded(update(1), ONE_MIB + 1))

    assert (response.status_code, response.text) == (413, "Request body too large.")
