"""One gated build per build database at a time.

Two `lw build` on the same database used to race inside DuckDB's own file lock, and the
loser (sometimes the earlier build) failed minutes later as a gate failure with a
traceback. The build now takes an advisory lock (POSIX flock) beside the database before
its first check and holds it until the publish is done; a second build fails at once,
naming the build that holds it. The kernel releases the lock when the holder dies
(SIGKILL included), so a killed build never leaves a stale lock behind.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lifecycle_warehouse.runner import BuildError


def lock_path(database: Path) -> Path:
    """The lock file of a build database: .<name>.build.lock beside it."""
    return database.parent / f".{database.name}.build.lock"


@contextmanager
def build_lock(database: Path) -> Iterator[None]:
    """Holds the build lock of `database`; BuildError naming the holder when it is taken."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that has not written its name yet"
            raise BuildError(
                f"another build of {database} is running ({holder}; lock {path}). "
                "Fix: wait for it to finish, or build into another --database"
            ) from None
        try:
            started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {started}: lw {' '.join(sys.argv[1:])}\n")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
