"""What a query asks for below the current field, so resolvers can batch only what is needed."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from app.graphql.context import Info


def _fields_named(selections: Iterable[Selection], name: str) -> list[SelectedField]:
    found: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                found.append(selection)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            found.extend(_fields_named(selection.selections, name))
    return found


def selects(info: Info, *path: str) -> bool:
    """Whether the current field's selection reaches `path` (through fragments and aliases)."""
    level = [f for f in info.selected_fields if isinstance(f, SelectedField)]
    for name in path:
        level = [f for parent in level for f in _fields_named(parent.selections, name)]
        if not level:
            return False
    return True
