"""Outbox: frames for one socket, in order, without ever making the caller wait."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.graphql.outbox import Frame, Outbox
from tests.support.sockets import FakeSocket


def frame(text: str, wanted: bool = True) -> Frame:
    return Frame((text,), lambda: wanted)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_are_written_in_the_order_they_were_put() -> None:
    socket = FakeSocket()
    outbox = Outbox(socket)  # type: ignore[arg-type]
    for n in range(5):
        outbox.put(frame(f"frame {n}"))
    await outbox.flushed()
    assert socket.sent == [f"frame {n}" for n in range(5)]
    assert outbox.pending == 0

    outbox.put(frame("later"))  # a new writer starts once the previous one is done
    await outbox.flushed()
    assert socket.sent[-1] == "later"


async def test_put_never_waits_for_a_socket_that_does_not_drain() -> None:
    socket = FakeSocket()
    socket.gate.clear()  # the peer stopped reading
    outbox = Outbox(socket)  # type: ignore[arg-type]
    outbox.put(frame("a"))
    outbox.put(frame("b"))  # returns at once: the caller is a broadcast to many sockets
    await settle()
    assert socket.sent == []
    assert outbox.pending == 1  # "a" is being written, "b" waits

    socket.gate.set()
    await outbox.flushed()
    assert socket.sent == ["a", "b"]


async def test_a_full_outbox_drops_its_oldest_frames_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    socket = FakeSocket()
    socket.gate.clear()
    outbox = Outbox(socket, limit=3)  # type: ignore[arg-type]
    outbox.put(frame("in flight"))
    await settle()  # the writer took it and waits on the socket
    with caplog.at_level(logging.WARNING, logger="app.graphql.outbox"):
        for n in range(7):
            outbox.put(frame(f"f{n}"))
    assert outbox.dropped == 4
    # Logged at the 1st, 2nd and 4th drop, not at every one.
    assert [r.getMessage() for r in caplog.records] == ["graphql.outbox.overflow"] * 3

    socket.gate.set()
    await outbox.flushed()
    assert socket.sent == ["in flight", "f4", "f5", "f6"]  # the newest frames survive


async def test_a_socket_that_went_away_stops_the_writer_and_later_frames() -> None:
    socket = FakeSocket()
    socket.fail_with = WebSocketDisconnect(code=1006)
    outbox = Outbox(socket)  # type: ignore[arg-type]
    outbox.put(frame("a"))
    outbox.put(frame("b"))
    await outbox.flushed()  # returns: nothing will ever be written
    assert socket.sent == []
    assert outbox.pending == 0

    socket.fail_with = None
    outbox.put(frame("c"))
    await outbox.flushed()
    assert socket.sent == []


async def test_a_closed_socket_is_not_written_to() -> None:
    socket = FakeSocket()
    socket.application_state = WebSocketState.DISCONNECTED
    outbox = Outbox(socket)  # type: ignore[arg-type]
    outbox.put(frame("a"))
    await outbox.flushed()
    assert socket.sent == []


async def test_close_abandons_a_blocked_write_and_what_is_left() -> None:
    socket = FakeSocket()
    socket.gate.clear()
    outbox = Outbox(socket)  # type: ignore[arg-type]
    outbox.put(frame("a"))
    outbox.put(frame("b"))
    await settle()
    await asyncio.wait_for(outbox.close(), timeout=1)
    assert outbox.pending == 0
    socket.gate.set()
    outbox.put(frame("c"))
    await settle()
    assert socket.sent == []


async def test_waiting_for_the_flush_can_be_cancelled_without_stopping_the_writer() -> None:
    socket = FakeSocket()
    socket.gate.clear()
    outbox = Outbox(socket)  # type: ignore[arg-type]
    outbox.put(frame("a"))
    waiter = asyncio.create_task(outbox.flushed())
    await settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    socket.gate.set()
    await outbox.flushed()
    assert socket.sent == ["a"]


async def test_a_frame_no_longer_wanted_when_its_turn_comes_is_dropped() -> None:
    socket = FakeSocket()
    socket.gate.clear()
    outbox = Outbox(socket)  # type: ignore[arg-type]
    wanted = {"a": True, "b": True}
    for name in ("a", "b", "c"):
        outbox.put(Frame((name, "!"), lambda name=name: wanted.get(name, True)))
    await settle()  # "a" is being written
    wanted["b"] = False  # e.g. the client completed b's operation meanwhile
    socket.gate.set()
    await outbox.flushed()
    assert socket.sent == ["a!", "c!"]  # parts are joined when written


async def test_an_unexpected_write_failure_is_logged_and_ends_writing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    socket = FakeSocket()
    socket.fail_with = RuntimeError("bug")
    outbox = Outbox(socket)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="app.graphql.outbox"):
        outbox.put(frame("a"))
        outbox.put(frame("b"))
        await outbox.flushed()
    assert [r.getMessage() for r in caplog.records] == ["graphql.outbox.write_failed"]
    socket.fail_with = None
    outbox.put(frame("c"))
    await outbox.flushed()
    assert socket.sent == []  # what follows a lost frame would be out of order
