"""One gated build per build database at a time.

Two `lw build` on the same database used to race inside DuckDB's own file lock, and the
loser (sometimes the earlier build) failed minutes later as a gate failure with a
traceback. The build now takes an advisory lock (lifecycle_warehouse.pipeline.locks) beside the
database before its first check and holds it until the publish is done; a second build
fails at once,
naming the build that holds it. The kernel releases the lock when the holder dies
(SIGKILL included), so a killed build never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from lifecycle_warehouse.pipeline.locks import LockHeld, advisory_lock
from lifecycle_warehouse.pipeline.runner import BuildError


def lock_path(database: Path) -> Path:
    """The lock file of a build database: .<name>.build.lock beside it."""
    return database.parent / f".{database.name}.build.lock"


@contextlib.contextmanager
def build_lock(database: Path) -> Iterator[None]:
    """Holds the build lock of `database`; BuildError naming the holder when it is taken."""
    path = lock_path(database)
    record = {"pid": os.getpid(),
              "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
              "command": "lw " + " ".join(sys.argv[1:])}
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(advisory_lock(path, record))
        except LockHeld as held:
            raise BuildError(
                f"another build of {database} is running ({_describe(held.holder)}; lock "
                f"{path}). Fix: wait for it to finish, or build into another --database"
            ) from None
        yield


def _describe(holder: dict | None) -> str:
    try:
        return f"pid {holder['pid']}, started {holder['started']}: {holder['command']}"
    except (KeyError, TypeError):
        return "a process that has not written its name yet"
