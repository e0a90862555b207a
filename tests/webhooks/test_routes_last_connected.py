"""A gateway whose `last_connected_at` is NULL gets it set by the first webhook update.

The route swallows errors of this bookkeeping (the update is stored, so a retry would be
pointless): a mistake in the NULL case would go unnoticed by the response. A mutation run found
no test that looked at the column itself.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from app.core.clock import FakeClock, utcnow
from app.gateways.models import Gateway
from tests.support.harness import Harness
from tests.support.upstreams import FakeUpstreams
from tests.webhooks.test_routes import (
    OTHER_TOKEN,
    TELEGRAM_HOST,
    FakeTelegram,
    connected_bot,
    create_telegram,
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


async def test_an_update_sets_a_null_last_connected_at(
    any_harness: Harness, telegram: FakeTelegram, clock: FakeClock
) -> None:
    bot = await connected_bot(any_harness, telegram)
    # E.g. a gateway connected before the column existed, or whose connect never recorded it.
    await Gateway.filter(id=bot.id).update(last_connected_at=None)
    any_harness.services.webhook_directory.invalidate(UUID(bot.id))
    clock.advance(5)  # well inside LAST_SEEN_RESOLUTION: only the NULL makes it due

    response = await post_update(any_harness, bot.id, bot.secret, update(1))

    assert response.status_code == 200
    row = await Gateway.get(id=bot.id)
    assert row.last_connected_at == clock.now()


async def test_the_directory_remembers_the_value_it_wrote(
    any_harness: Harness, telegram: FakeTelegram, clock: FakeClock
) -> None:
    bot = await connected_bot(any_harness, telegram)
    await Gateway.filter(id=bot.id).update(last_connected_at=None)
    any_harness.services.webhook_directory.invalidate(UUID(bot.id))
    clock.advance(5)
    assert (await post_update(any_harness, bot.id, bot.secret, update(1))).status_code == 200
    first = clock.now()

    # Another writer clears it again; the cached entry (within the directory's 30 s TTL) still
    # says "seen at `first`", so the next update within the minute writes nothing.
    await Gateway.filter(id=bot.id).update(last_connected_at=None)
    clock.advance(20)
    assert (await post_update(any_harness, bot.id, bot.secret, update(2))).status_code == 200

    assert (await Gateway.get(id=bot.id)).last_connected_at is None
    entry = await any_harness.services.webhook_directory.get(UUID(bot.id))
    assert entry is not None
    assert entry.last_connected_at == first


async def test_a_recent_write_by_another_process_is_kept(
    any_harness: Harness, telegram: FakeTelegram, clock: FakeClock
) -> None:
    bot = await connected_bot(any_harness, telegram)
    clock.advance(600)
    # The cached entry (loaded now) says "seen 10 minutes ago"; then another process records
    # a sighting 10 s ago. The conditional UPDATE must not move it again within the minute.
    entry = await any_harness.services.webhook_directory.get(UUID(bot.id))
    assert entry is not None
    recent = clock.now() - timedelta(seconds=10)
    await Gateway.filter(id=bot.id).update(last_connected_at=recent)

    response = await post_update(any_harness, bot.id, bot.secret, update(1))

    assert response.status_code == 200
    assert (await Gateway.get(id=bot.id)).last_connected_at == recent


async def test_only_the_receiving_gateway_is_marked(
    any_harness: Harness, telegram: FakeTelegram, clock: FakeClock
) -> None:
    bot = await connected_bot(any_harness, telegram)
    other = await create_telegram(any_harness, bot.token, OTHER_TOKEN)
    clock.advance(600)

    assert (await post_update(any_harness, bot.id, bot.secret, update(1))).status_code == 200

    assert (await Gateway.get(id=bot.id)).last_connected_at == clock.now()
    assert (await Gateway.get(id=other)).last_connected_at is None
