"""Executing a subscription's selection once for an event, for every subscriber that would get
byte-identical results.

graphql-core builds one executor per subscription and copies it for each event
(`build_per_event_executor`). `SharingExecutionContext` lets the subscription resolver get hold
of that executor, so the event can be executed with it outside the operation's own task, and
the result encoded the way strawberry encodes a `next` payload (same error masking, same
logging), once for all the subscribers it is sent to.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult, GraphQLSchema, OperationType, TypeInfo, TypeInfoVisitor
from graphql.execution import Executor
from graphql.language import BREAK, DocumentNode, FieldNode, Visitor, visit
from strawberry.schema.base import BaseSchema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.graphql.context import Context, Info
from app.graphql.errors import public_error
from app.graphql.transport_ws import encode_json

# The executor of the subscription the current task is starting; read by its resolver.
current_executor: ContextVar[Executor[Any] | None] = ContextVar("current_executor", default=None)

# Type name -> field names.
FieldSet = dict[str, frozenset[str]]


class SharingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, which also remembers a subscription's executor.

    graphql-core builds it in the operation's task right before calling the subscription
    resolver, in that same task; per-event copies are made with `copy`, not through here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.operation.operation is OperationType.SUBSCRIPTION:
            current_executor.set(self)


@dataclass(frozen=True, slots=True)
class SharedOperation:
    """A running subscription operation, as far as executing its events goes."""

    executor: Executor[Any]
    schema: BaseSchema
    # Equal for operations with the same document text and operation name.
    text_key: Hashable
    # Equal for operations with the same document, operation and variables.
    document_key: Hashable

    @classmethod
    def current(cls, info: Info) -> SharedOperation | None:
        """The subscription the resolver behind `info` is starting; None outside one."""
        executor = current_executor.get()
        if executor is None or executor.operation is not info.operation:
            return None
        text_key = _text_key(executor)
        variables = json.dumps(executor.variable_values.coerced, sort_keys=True, default=str)
        return cls(executor, info.schema, text_key, (text_key, variables))

    def selects_only(self, allowed: FieldSet) -> bool:
        """Whether every field the document selects is in `allowed` (`__typename` always is)."""
        return selects_only(self.executor.schema, _document_of(self.executor), allowed)

    async def execute(self, root: object, context: Context) -> str:
        """The JSON `payload` of the `next` message for the event `root`."""
        executor = self.executor.build_per_event_executor(root)
        executor.context_value = context
        result = executor.execute_operation(False)
        if executor.is_awaitable(result):
            result = await result
        if not isinstance(result, ExecutionResult):  # incremental delivery: refused by validation
            raise TypeError(f"a subscription event produced {type(result).__name__}")
        if result.errors:
            self.schema.process_errors(result.errors)  # logs what deserves a traceback
        return encode_payload(result)


def encode_payload(result: ExecutionResult) -> str:
    """The `payload` of a `next` message as strawberry sends it: errors as the client may see
    them (app.graphql.errors), no `extensions` (no extension of ours adds any)."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [public_error(error).formatted for error in result.errors]
    return encode_json(payload)


def selects_only(schema: GraphQLSchema, document: DocumentNode, allowed: FieldSet) -> bool:
    type_info = TypeInfo(schema)
    outside: list[str] = []

    class Check(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> object:
            name = node.name.value
            parent = type_info.get_parent_type()
            if name != "__typename" and (
                parent is None or name not in allowed.get(parent.name, frozenset())
            ):
                outside.append(name)
                return BREAK
            return None

    visit(document, TypeInfoVisitor(type_info, Check()))
    return not outside


def _document_of(executor: Executor[Any]) -> DocumentNode:
    return DocumentNode(definitions=(executor.operation, *executor.fragment_definitions.values()))


def _text_key(executor: Executor[Any]) -> Hashable:
    operation = executor.operation
    if operation.loc is None:
        # Parsed without locations: no text to compare, so this operation shares with none.
        return ("operation", id(operation))
    return ("document", operation.loc.source.body, operation.name.value if operation.name else None)
