"""Advisory file locks that name their holder (POSIX flock).

The build lock (one gated build per build database, `build_lock`) and the publish lock
(one publish or rollback per serving file, `publish`) are both this: an exclusive flock on
a small file, whose holder writes a JSON record of who it is, so that whoever finds the
lock taken can say which process holds it. The kernel releases a flock when its holder
dies (SIGKILL included): a killed holder leaves no stale lock, only a stale record, which
the next holder overwrites.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class LockHeld(Exception):
    """The lock stayed taken; `holder` is the record its holder wrote (None: unreadable)."""

    def __init__(self, holder: dict[str, Any] | None) -> None:
        super().__init__(holder)
        self.holder = holder


def read_holder(path: Path) -> dict[str, Any] | None:
    """The record the holder of the lock at `path` wrote, or None."""
    try:
        holder = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


@contextlib.contextmanager
def advisory_lock(path: Path, record: dict[str, Any], *, timeout: float = 0.0,
                  on_wait: Callable[[dict[str, Any] | None], None] | None = None
                  ) -> Iterator[None]:
    """Holds an exclusive flock on `path` with `record` written into it.

    Waits up to `timeout` seconds for another holder (0: not at all), calling `on_wait`
    once with its record when it has to wait; then LockHeld. Without fcntl (Windows) it
    holds nothing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no atomic replace of open files anyway
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = read_holder(path)
                if time.monotonic() >= deadline:
                    raise LockHeld(holder) from None
                if not waited and on_wait is not None:
                    on_wait(holder)
                waited = True
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
