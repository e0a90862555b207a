"""The route template of an ASGI scope: the only form of a path that may become a label."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

UNMATCHED_ROUTE = "unmatched"


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """`/api/webhooks/telegram/{gateway_id}`, never the raw path; one value for no match.

    Starlette's router leaves the matched route in the scope. A request answered before routing
    (a body over the size limit) has none, so the routes are matched here, which is rare.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match is not Match.NONE:
            path = getattr(candidate, "path", None)
            if isinstance(path, str):
                return path
    return UNMATCHED_ROUTE
