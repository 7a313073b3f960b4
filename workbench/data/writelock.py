"""The cache's write lock: one process at a time publishes (appends, write sessions).

Appends never open the DuckDB file (opening and closing it alone costs ~50 ms), so
DuckDB's own file lock cannot order them: an advisory ``flock`` on
``<cache>.series/.writer.lock`` does, for appends and write sessions alike. The holder
writes its pid there, so a refused writer is told who holds it. The kernel drops the lock
when its holder dies, so a killed writer never leaves the cache locked. ``flock`` locks
belong to one open file, so two writers in one process exclude each other too.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from workbench.data.locking import locked_error

LOCK_NAME = ".writer.lock"


class WriteLock:
    """Held from :func:`acquire` until :meth:`release` (or the end of a ``with`` block)."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file drops the flock
            self.fd = None

    def __enter__(self) -> WriteLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(snapshot_dir: Path, cache_path: Path, timeout: float) -> WriteLock:
    """Take the write lock, retrying for ``timeout`` s, else CacheLockedError naming the pid."""
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    path = snapshot_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise locked_error(cache_path, holder, "write lock held") from None
            time.sleep(delay)  # short: appends hold it a few ms, and come back to back
            delay = min(delay * 2, 0.005)
        except BaseException:
            os.close(fd)
            raise
        else:
            os.pwrite(fd, f"{os.getpid():<20}".encode(), 0)  # fixed width: no truncate
            return WriteLock(fd)


def _holder(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (ValueError, OSError):
        return None
