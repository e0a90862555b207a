"""Files only the server's own user may read: the data directory, the database, the keys.

New files and directories are created private (0600 / 0700) regardless of the umask. An existing
one that others may read or write is *tightened* (and the change logged as a warning), because
these paths belong to the server: a database or key left world-readable by an older version or
by a copy is a leak to fix, not a choice to respect. When tightening is impossible (the file
belongs to someone else) the warning says so and start-up goes on.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("app.storage")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _tighten(path: Path, private: int) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    details = {"path": str(path), "mode": f"{mode:04o}", "wanted": f"{mode & private:04o}"}
    try:
        path.chmod(mode & private)
    except OSError as exc:
        log.warning("storage.permissions.too_open", extra={**details, "error": exc.strerror})
        return
    log.warning("storage.permissions.tightened", extra=details)


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) 0700, or tighten it if it exists."""
    # mkdir's mode is filtered by the umask and ignored for existing parents: only the leaf is
    # private, which is what matters.
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)


def ensure_private_file(path: Path, *, create: bool = False) -> None:
    """Tighten `path` to 0600 (owner's bits only) if it exists; with `create`, create it empty
    and private first if it does not."""
    if create:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
            return
        except FileExistsError:
            pass  # another process, or an earlier run: tightened below
    _tighten(path, PRIVATE_FILE)
