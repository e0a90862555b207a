"""Reading a GraphQL request's parameters (`query`, `variables`, `operationName`, `extensions`)
from whatever a client sent: a JSON body, URL parameters, a WebSocket `subscribe` payload.

Everything a client can get wrong is answered as a `RequestError` with a reason, never an
exception from deeper down. strawberry's own parsing lets through bytes that are not UTF-8
(UnicodeDecodeError), JSON nested deeper than the interpreter's recursion limit
(RecursionError), integers longer than Python converts (ValueError) and bodies that are not an
object (AttributeError): each became a 500 and a traceback, for anyone without a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from strawberry.http import GraphQLRequestData

from app.core import strict_json

# How deep `variables` or `extensions` may nest. Our deepest input type is a few levels;
# graphql-core walks variables recursively, so an unbounded depth is a stack overflow waiting.
MAX_JSON_DEPTH = 32


@dataclass
class RequestError(Exception):
    """A request the server will not execute, answered with `status` and one GraphQL error."""

    status: int
    message: str
    code: str = "BAD_REQUEST"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def decode_json(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Decode strict JSON; raises `RequestError` (400) for anything that is not."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise RequestError(400, "The request body is not valid UTF-8.") from None
    try:
        value = strict_json.loads(text)
    except RecursionError:
        raise RequestError(400, "The JSON is nested too deeply.") from None
    except ValueError:  # malformed, NaN/Infinity/1e400, an integer too long to convert
        raise RequestError(400, "The request is not valid JSON.") from None
    if _depth_exceeds(value, max_depth):
        raise RequestError(400, "The JSON is nested too deeply.")
    return value


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether `value` nests containers more than `limit` levels deep (iteratively: a recursive
    walk would be the very stack overflow this guards against)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def request_data(params: Mapping[str, object], *, protocol: str = "http") -> GraphQLRequestData:
    """Check the four GraphQL parameters' types; raises `RequestError` (400) naming the bad one.

    `params` is the decoded body, or the URL parameters with `variables` and `extensions`
    already decoded (see `from_query_params`)."""
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "The request has no GraphQL query (`query` must be a string).")
    variables = params.get("variables")
    if not isinstance(variables, dict | None):
        raise RequestError(400, "`variables` must be an object or null.")
    operation_name = params.get("operationName")
    if not isinstance(operation_name, str | None):
        raise RequestError(400, "`operationName` must be a string or null.")
    extensions = params.get("extensions")
    if not isinstance(extensions, dict | None):
        raise RequestError(400, "`extensions` must be an object or null.")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name or None,
        extensions=extensions,
        protocol=protocol,  # type: ignore[arg-type]
    )


def from_body(body: bytes) -> GraphQLRequestData:
    """A POSTed `application/json` body: one object (batches are not enabled)."""
    value = decode_json(body, max_depth=MAX_JSON_DEPTH + 1)  # the body object is one level
    if isinstance(value, list):
        raise RequestError(400, "Batched requests are not supported: send one operation.")
    if not isinstance(value, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    return request_data(value)


def from_query_params(params: Mapping[str, str]) -> GraphQLRequestData:
    """A GET request's URL parameters; `variables` and `extensions` are JSON-encoded."""
    decoded: dict[str, object] = dict(params)
    for name in ("variables", "extensions"):
        raw = params.get(name)
        decoded[name] = decode_json(raw) if raw else None
    return request_data(decoded)
