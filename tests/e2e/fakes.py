"""Small fake upstreams served over real HTTP on 127.0.0.1: a Telegram Bot API and an
OpenAI-compatible API.

Each fake is a Starlette app run by uvicorn in a daemon thread (`ServedApp`). Tests read what a
fake received and switch it into failure modes from the test thread; the state they share is
guarded by a lock.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class ServedApp:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, in a background thread."""

    def __init__(self, app: Starlette, port: int = 0) -> None:
        self._app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = port  # 0: any free port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            loop="asyncio",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
        )
        server = self._server = uvicorn.Server(config)
        # uvicorn owns the socket from here and closes it at shutdown.
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"fake-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"fake upstream on port {self.port} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive():
                raise RuntimeError(f"fake upstream on port {self.port} did not stop")


class Fake(Protocol):
    app: Starlette
    url: str


F = TypeVar("F", bound=Fake)


@contextmanager
def running(fake: F) -> Iterator[F]:
    """Serve `fake.app` for the duration of the block, with `fake.url` set to where it listens."""
    served = ServedApp(fake.app)
    served.start()
    fake.url = served.url
    try:
        yield fake
    finally:
        served.stop()


# ---------------------------------------------------------------- Telegram Bot API


@dataclass(frozen=True)
class TelegramCall:
    token: str
    method: str
    body: dict[str, Any]


class FakeTelegramAPI:
    """`POST /bot<token>/<method>` with JSON bodies; every call is recorded.

    `fail(token, status)` makes every method of that bot answer `status` until `heal(token)`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[TelegramCall] = []
        self._failing: dict[str, int] = {}
        self._webhooks: dict[str, dict[str, Any]] = {}
        self._message_ids = itertools.count(1)
        self.url = ""
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["POST"])]
        )

    def fail(self, token: str, status: int = 500) -> None:
        with self._lock:
            self._failing[token] = status

    def heal(self, token: str) -> None:
        with self._lock:
            self._failing.pop(token, None)

    def calls(self, token: str, method: str | None = None) -> list[TelegramCall]:
        with self._lock:
            return [
                c
                for c in self._calls
                if c.token == token and (method is None or c.method == method)
            ]

    async def _endpoint(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        method = request.path_params["method"]
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        with self._lock:
            self._calls.append(TelegramCall(token, method, body))
            failing = self._failing.get(token)
            if failing is not None:
                return _telegram_error(failing, "Internal Server Error")
            return self._answer(token, method, body)

    def _answer(self, token: str, method: str, body: dict[str, Any]) -> JSONResponse:
        bot_id = int(token.split(":", 1)[0])
        match method:
            case "getMe":
                return _telegram_ok(
                    {
                        "id": bot_id,
                        "is_bot": True,
                        "first_name": "E2E",
                        "username": f"e2e_{bot_id}_bot",
                        "can_join_groups": True,
                    }
                )
            case "setWebhook":
                self._webhooks[token] = body
                return _telegram_ok(True)
            case "deleteWebhook":
                self._webhooks.pop(token, None)
                return _telegram_ok(True)
            case "getWebhookInfo":
                webhook = self._webhooks.get(token, {})
                return _telegram_ok(
                    {
                        "url": webhook.get("url", ""),
                        "has_custom_certificate": False,
                        "pending_update_count": 2,
                        "max_connections": webhook.get("max_connections", 40),
                        "allowed_updates": webhook.get("allowed_updates", []),
                    }
                )
            case "sendMessage":
                chat = {"id": body["chat_id"], "type": "private"}
                message = {
                    "message_id": next(self._message_ids),
                    "chat": chat,
                    "date": 1767225600,
                    "text": body["text"],
                }
                return _telegram_ok(message)
        return _telegram_error(404, "Not Found: method not found")


def _telegram_ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _telegram_error(status: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": status, "description": description}, status_code=status
    )


# ---------------------------------------------------------------- OpenAI-compatible API


@dataclass(frozen=True)
class OpenAIRequest:
    method: str
    path: str
    authorization: str | None
    body: dict[str, Any]


class FakeOpenAIAPI:
    """`GET /v1/models` and `POST /v1/chat/completions`; the reply echoes the last message."""

    MODELS = ("gpt-e2e", "gpt-e2e-mini")

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key
        self._lock = threading.Lock()
        self._requests: list[OpenAIRequest] = []
        self.url = ""
        self.app = Starlette(
            routes=[
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
            ]
        )

    @property
    def requests(self) -> list[OpenAIRequest]:
        with self._lock:
            return list(self._requests)

    async def _record(self, request: Request) -> JSONResponse | None:
        raw = await request.body()
        authorization = request.headers.get("authorization")
        with self._lock:
            self._requests.append(
                OpenAIRequest(
                    request.method,
                    request.url.path,
                    authorization,
                    json.loads(raw) if raw else {},
                )
            )
        if authorization != f"Bearer {self._api_key}":
            error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
            return JSONResponse({"error": error}, status_code=401)
        return None

    async def _models(self, request: Request) -> JSONResponse:
        refused = await self._record(request)
        if refused is not None:
            return refused
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "e2e"} for m in self.MODELS]
        return JSONResponse({"object": "list", "data": data})

    async def _chat(self, request: Request) -> JSONResponse:
        refused = await self._record(request)
        if refused is not None:
            return refused
        body = self.requests[-1].body
        last = body["messages"][-1]["content"]
        return JSONResponse(
            {
                "id": "chatcmpl-e2e",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"echo: {last}"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            }
        )
