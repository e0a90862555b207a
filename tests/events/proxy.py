"""A TCP proxy in front of Redis that a test can stop, restart or black-hole.

Stopping it looks like a Redis restart to the client (connections cut, then refused); pausing
it looks like a half-open connection (the socket stays up, nothing gets through).
"""

from __future__ import annotations

import asyncio
import contextlib


class RedisProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[object]] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/15"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (on the same port again after a stop)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        # Cancel the pipes, not the handlers: on Python 3.11 a cancelled handler task is
        # reported by asyncio as an error. Each handler then closes its sockets and returns.
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        writers = [writer]
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
            writers.append(up_writer)
            pipes = [
                asyncio.create_task(self._pipe(reader, up_writer)),
                asyncio.create_task(self._pipe(up_reader, writer)),
            ]
            self._pipes.update(pipes)
            # Either side closing (or stop()) ends both directions.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes.difference_update(pipes)
        finally:
            for w in writers:
                w.close()
                with contextlib.suppress(OSError):
                    await w.wait_closed()
            self._handlers.discard(handler)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if not self.paused:  # paused: swallow the bytes, like a dead network path
                    writer.write(data)
                    await writer.drain()
