"""ASGI middleware that refuses request bodies above a size limit with 413.

The body is read (bounded) before the application sees it and then replayed, so a chunked upload
without Content-Length is limited as surely as one that announces its size. A GET carries its
request in the URL (GraphQL queries over GET): a query string above the same limit is a 414.
Refusals are GraphQL-shaped JSON errors, which the GraphQL clients can show, and which mean
nothing worse to any other caller.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def refusal(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            if len(scope.get("query_string", b"")) > self.max_bytes:
                too_long = refusal(414, "Request URL too long.", "URI_TOO_LONG")
                await too_long(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        too_large = refusal(413, "Request body too large.", "PAYLOAD_TOO_LARGE")
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    bad_length = refusal(400, "Bad Content-Length.", "BAD_REQUEST")
                    await bad_length(scope, receive, send)
                    return
                if announced > self.max_bytes:
                    await too_large(scope, receive, send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
