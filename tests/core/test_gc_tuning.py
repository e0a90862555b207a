"""settle_heap: what `serve` does to the garbage collector once start-up is done."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import lifespan as lifespan_module
from app.core.gc_tuning import YOUNG_COLLECTIONS_PER_FULL, settle_heap
from app.main import create_app
from tests.support.harness import make_settings


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_start_up_heap_is_frozen_and_full_collections_are_rarer(restored_gc: None) -> None:
    gen0, gen1, _ = gc.get_threshold()
    before = gc.get_freeze_count()
    settle_heap()
    assert gc.get_freeze_count() > before
    # Young collections as often as before; full ones YOUNG_COLLECTIONS_PER_FULL times rarer.
    assert gc.get_threshold() == (gen0, gen1, YOUNG_COLLECTIONS_PER_FULL)
    assert gc.isenabled()


async def test_only_an_app_built_for_serving_settles_the_heap_and_only_once_started(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(lifespan_module, "settle_heap", lambda: calls.append("settled"))
    settings = make_settings(database_url, str(tmp_path))
    for tune_gc in (False, True):  # tests build many apps in one process: they must not freeze
        EXECUTOR_CACHE.clear()
        app = create_app(settings, run_health_checker=False, tune_gc=tune_gc)
        assert calls == []
        async with app.router.lifespan_context(app):
            assert calls == (["settled"] if tune_gc else [])
    assert calls == ["settled"]
