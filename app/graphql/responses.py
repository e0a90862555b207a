"""GraphQL over HTTP responses: which media type a client gets, and errors as GraphQL errors.

GraphQL-over-HTTP (graphql.github.io/graphql-over-http) defines two response media types:
- `application/json`, the legacy one: every well-formed request is answered 200, whatever
  GraphQL errors it produced (what existing clients expect);
- `application/graphql-response+json`: a request error (the document does not parse or
  validate, variables do not coerce) is answered 4xx and without `data`, so a client can tell
  "not executed" from "executed with errors".
A client gets the second when its Accept header asks for it at least as much as for JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphql import GraphQLError
from starlette.responses import JSONResponse

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


def _quality(params: Sequence[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """The media type to answer with, from the request's Accept header.

    No Accept header, `*/*` or `application/json` keep the legacy `application/json`
    (the spec's advice until clients have moved over); `application/graphql-response+json` is
    chosen only when it is named and not ranked below JSON.
    """
    graphql_q = json_q = 0.0
    for item in (accept or "").split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        q = _quality(params)
        if media == GRAPHQL_RESPONSE_JSON:
            graphql_q = max(graphql_q, q)
        elif media in (APPLICATION_JSON, "application/*", "*/*"):
            json_q = max(json_q, q)
    return GRAPHQL_RESPONSE_JSON if graphql_q > 0 and graphql_q >= json_q else APPLICATION_JSON


def is_request_error(data: object, errors: Sequence[GraphQLError] | None) -> bool:
    """Whether the operation failed before execution started.

    graphql-core reports syntax, validation and variable coercion errors without a `path`,
    and every error raised while executing a field with one; an execution that fails at the
    root still started, and keeps `"data": null`.
    """
    return data is None and bool(errors) and all(error.path is None for error in errors or ())


def error_response(
    status: int,
    message: str,
    *,
    code: str,
    media_type: str = APPLICATION_JSON,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """One GraphQL error, without `data`: nothing was executed."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)
