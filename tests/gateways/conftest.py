from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.live import Live, live_server
from tests.support.upstreams import FakeUpstreams


@pytest.fixture
async def live(database_url: str, tmp_path: Path, upstreams: FakeUpstreams) -> AsyncIterator[Live]:
    """The app served on a real socket in this process (see tests/support/live.py)."""
    async with live_server(database_url, tmp_path, upstreams) as server:
        yield server
