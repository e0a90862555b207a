"""GraphQL types of gateway lifecycle results: tests, actions, chats, Telegram messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.gateways.types import Gateway
from app.graphql.scalars import ChatRole


@strawberry.type
class GatewayTestResult:
    success: bool
    latency_ms: float | None
    error: str | None
    details: JSON = strawberry.field(
        description='Provider-specific facts, e.g. {"botUsername": "my_bot"} or {"models": 12}.'
    )
    tested_at: datetime
    gateway: Gateway


@strawberry.type
class GatewayActionResult:
    action: str
    data: JSON
    gateway: Gateway


@strawberry.type
class ChatMessage:
    role: ChatRole
    content: str


@strawberry.type
class AIChatCompletion:
    model: str
    message: ChatMessage
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: float
    refused: bool = strawberry.field(
        default=False,
        description="True when the model declined to answer: message.content then holds the "
        "model's refusal text (empty when the provider gives none), not an answer.",
    )

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AIChatCompletion:
        message = data["message"]
        return cls(
            model=data["model"],
            message=ChatMessage(role=ChatRole(message["role"]), content=message["content"]),
            finish_reason=data.get("finishReason"),
            prompt_tokens=data.get("promptTokens"),
            completion_tokens=data.get("completionTokens"),
            latency_ms=data["latencyMs"],
            refused=bool(data.get("refused", False)),
        )


@strawberry.input
class ChatMessageInput:
    role: ChatRole
    content: str


@strawberry.input
class AIChatInput:
    gateway_id: strawberry.ID
    messages: list[ChatMessageInput]
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None

    def to_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "messages": [{"role": m.role.value, "content": m.content} for m in self.messages]
        }
        if self.model is not None:
            params["model"] = self.model
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["maxTokens"] = self.max_tokens
        return params


@strawberry.input
class SendTelegramMessageInput:
    gateway_id: strawberry.ID
    chat_id: str
    text: str
    parse_mode: str | None = strawberry.field(
        default=None, description="MarkdownV2, HTML or Markdown"
    )

    def to_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"chatId": self.chat_id, "text": self.text}
        if self.parse_mode is not None:
            params["parseMode"] = self.parse_mode
        return params
