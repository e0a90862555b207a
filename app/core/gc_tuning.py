"""Garbage-collector settings for a server process that holds many long-lived sockets.

CPython's full collection walks every tracked object, and each open subscription socket keeps a
couple of hundred of them (protocol, coroutine chain, context). With a thousand sockets a full
collection stops the process for a couple of hundred milliseconds on a slow machine, and a
status event fanned out meanwhile reaches every subscriber that much later (bench/ fanout).
Measured on CPython 3.11, the project's oldest supported version; later versions change how
the oldest generation is collected, and the threshold should be measured again there.
"""

from __future__ import annotations

import gc

# Younger collections between two full ones; CPython's default is 10. Young cycles (a request's
# garbage) are still collected as often as before; only what survives two collections waits
# longer. CPython also skips a full collection until the survivors grew the heap by a quarter.
YOUNG_COLLECTIONS_PER_FULL = 100


def settle_heap() -> None:
    """Call once, when start-up is done (`serve` only: tests build many apps in one process)."""
    # Modules, the schema and the ORM's metadata live as long as the process: no collection
    # needs to walk them again.
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, YOUNG_COLLECTIONS_PER_FULL)
