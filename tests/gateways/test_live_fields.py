"""ScopeSharing: a document's verdict is worked out once per document text, and remembered for a
bounded number of documents."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from app.gateways.live_fields import SCOPE_SHARED_FIELDS, ScopeSharing


class FakeOperation:
    walks: list[Hashable] = []

    def __init__(self, text_key: Hashable, scope_only: bool) -> None:
        self.text_key = text_key
        self._scope_only = scope_only

    def selects_only(self, allowed: Any) -> bool:
        assert allowed is SCOPE_SHARED_FIELDS
        FakeOperation.walks.append(self.text_key)
        return self._scope_only


def test_a_document_is_walked_once_whatever_the_number_of_subscriptions() -> None:
    FakeOperation.walks = []
    sharing = ScopeSharing()
    op: Any = FakeOperation("status only", True)
    viewer: Any = FakeOperation("with viewerRole", False)
    assert [sharing(op) for _ in range(3)] == [True] * 3
    assert [sharing(viewer) for _ in range(3)] == [False] * 3
    assert FakeOperation.walks == ["status only", "with viewerRole"]


def test_only_the_most_recent_documents_are_remembered() -> None:
    FakeOperation.walks = []
    sharing = ScopeSharing(limit=2)
    a: Any = FakeOperation("a", True)
    b: Any = FakeOperation("b", True)
    c: Any = FakeOperation("c", False)
    sharing(a)
    sharing(b)
    sharing(a)  # `a` is now the most recent
    sharing(c)  # over the limit: `b` is forgotten
    sharing(a)
    sharing(b)
    assert FakeOperation.walks == ["a", "b", "c", "b"]
