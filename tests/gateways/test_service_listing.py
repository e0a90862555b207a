"""GatewayService.list: input bounds (exact messages), filters, search trimming, paging and order.

Called on the service directly, so each bound is checked at its edge. Found unasserted by a
mutation run of app/gateways/service.py.
"""

from __future__ import annotations

import pytest

from app.auth.models import User
from app.errors import FieldIssue, ValidationFailedError
from app.gateways.credentials import AICredentials, TelegramBotCredentials
from app.gateways.enums import AIProvider, GatewayStatus, GatewayType
from app.gateways.inputs import CreateGatewayInput, CredentialsInput
from app.gateways.models import Gateway
from app.gateways.service import MAX_PAGE_SIZE, SEARCH_MAX, GatewayFilter, GatewayService
from app.service_context import ServiceContext
from tests.support.harness import Harness

TOKEN = "123456789:" + "A" * 35
NO_FILTER = GatewayFilter()


def bot(name: str) -> CreateGatewayInput:
    return CreateGatewayInput(
        name=name,
        type=GatewayType.TELEGRAM_BOT,
        credentials=CredentialsInput(telegram_bot=TelegramBotCredentials(bot_token=TOKEN)),
    )


def ai(name: str) -> CreateGatewayInput:
    return CreateGatewayInput(
        name=name,
        type=GatewayType.AI,
        credentials=CredentialsInput(
            ai=AICredentials(provider=AIProvider.OPENAI, api_key="sk-test-1234")
        ),
    )


async def owner(h: Harness) -> tuple[GatewayService, ServiceContext]:
    await h.register("owner@example.com")
    user = await User.get(email="owner@example.com")
    return h.services.gateways, ServiceContext(user_id=user.id)


async def refusal(
    service: GatewayService,
    ctx: ServiceContext,
    *,
    page: int = 1,
    page_size: int = 10,
    search: str | None = None,
) -> list[FieldIssue]:
    with pytest.raises(ValidationFailedError) as info:
        await service.list(ctx, GatewayFilter(search=search), page, page_size)
    return info.value.issues


async def test_bounds_are_refused_with_their_field_and_message(harness: Harness) -> None:
    service, ctx = await owner(harness)

    assert await refusal(service, ctx, page=0) == [FieldIssue("page", "Must be 1 or more.")]
    size_issue = [FieldIssue("pageSize", f"Must be between 1 and {MAX_PAGE_SIZE}.")]
    assert await refusal(service, ctx, page_size=0) == size_issue
    assert await refusal(service, ctx, page_size=MAX_PAGE_SIZE + 1) == size_issue
    assert await refusal(service, ctx, search="x" * (SEARCH_MAX + 1)) == [
        FieldIssue("filter.search", f"Use at most {SEARCH_MAX} characters.")
    ]
    # Every bad value is reported at once, not only the first.
    issues = await refusal(service, ctx, page=0, page_size=0, search="x" * (SEARCH_MAX + 1))
    assert [issue.field for issue in issues] == ["page", "pageSize", "filter.search"]


async def test_the_bounds_themselves_are_accepted(harness: Harness) -> None:
    service, ctx = await owner(harness)
    await service.create(ctx, bot("only"))

    for page_size in (1, MAX_PAGE_SIZE):
        listed = await service.list(ctx, NO_FILTER, 1, page_size)
        assert [g.name for g in listed.items] == ["only"]
        assert (listed.total, listed.page, listed.page_size) == (1, 1, page_size)
    searched = await service.list(ctx, GatewayFilter(search="o" * SEARCH_MAX), 1, 10)
    assert (searched.items, searched.total) == ([], 0)


async def test_pages_are_newest_first_with_the_id_breaking_ties(harness: Harness) -> None:
    service, ctx = await owner(harness)
    for name in ("a", "b", "c", "d", "e"):
        await service.create(ctx, bot(name))
    # All in the same instant: only the (time-ordered) id can keep the creation order.
    stamp = (await Gateway.get(name="a")).created_at
    await Gateway.all().update(created_at=stamp)

    first = await service.list(ctx, NO_FILTER, 1, 2)
    second = await service.list(ctx, NO_FILTER, 2, 2)
    last = await service.list(ctx, NO_FILTER, 3, 2)

    assert [g.name for g in first.items] == ["e", "d"]
    assert [g.name for g in second.items] == ["c", "b"]
    assert [g.name for g in last.items] == ["a"]
    assert (second.total, second.page, second.page_size) == (5, 2, 2)


async def test_newer_rows_come_first_whatever_their_ids(harness: Harness) -> None:
    service, ctx = await owner(harness)
    older = await service.create(ctx, bot("older"))
    newer = await service.create(ctx, bot("newer"))
    # Swap the creation times: created_at decides, the id only breaks ties.
    await Gateway.filter(id=newer.id).update(created_at=older.created_at)
    await Gateway.filter(id=older.id).update(created_at=newer.created_at)

    listed = await service.list(ctx, NO_FILTER, 1, 10)

    assert [g.name for g in listed.items] == ["older", "newer"]


async def test_type_and_status_filters_narrow_the_items_and_the_total(harness: Harness) -> None:
    service, ctx = await owner(harness)
    telegram = await service.create(ctx, bot("telegram"))
    await service.create(ctx, ai("assistant"))
    await Gateway.filter(id=telegram.id).update(status=GatewayStatus.CONNECTED)

    by_type = await service.list(ctx, GatewayFilter(type=GatewayType.AI), 1, 10)
    by_status = await service.list(ctx, GatewayFilter(status=GatewayStatus.CONNECTED), 1, 10)

    assert ([g.name for g in by_type.items], by_type.total) == (["assistant"], 1)
    assert ([g.name for g in by_status.items], by_status.total) == (["telegram"], 1)


async def test_search_is_trimmed_case_insensitive_and_blank_means_all(harness: Harness) -> None:
    service, ctx = await owner(harness)
    await service.create(ctx, bot("Support Bot"))
    await service.create(ctx, bot("Alerts"))

    found = await service.list(ctx, GatewayFilter(search="  support  "), 1, 10)
    blank = await service.list(ctx, GatewayFilter(search="   "), 1, 10)

    assert ([g.name for g in found.items], found.total) == (["Support Bot"], 1)
    assert blank.total == 2
