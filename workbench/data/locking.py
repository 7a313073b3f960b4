"""Who may write the candle cache, and the error a second writer gets.

DuckDB allows one read-write process per file and says so with an IOException naming
the holder's pid. We turn that into :class:`CacheLockedError` ("candle cache <path> is
locked by pid N"), after retrying for ``timeout`` seconds, since writers hold the file
only for the length of one write session. Inside one process DuckDB shares a database
between connections, so a per-path thread lock gives the same one-writer rule there.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from workbench.errors import CacheLockedError

_PID = re.compile(r"PID (\d+)")
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _GUARD:
        return _THREAD_LOCKS.setdefault(str(path.resolve()), threading.Lock())


def locked_error(path: Path, pid: int | None, reason: str = "") -> CacheLockedError:
    who = f"pid {pid}" if pid is not None else "another process"
    return CacheLockedError(
        f"candle cache {path} is locked by {who}: one writer at a time. Wait for it to "
        "finish (or stop it) and retry; readers are not affected.",
        details={"path": str(path), "pid": pid, "reason": reason})


def connect_writer(path: Path, timeout: float) -> tuple[Any, threading.Lock]:
    """Open ``path`` read-write, retrying up to ``timeout`` s; return (connection, lock).

    The caller must close the connection and release the lock.
    """
    import duckdb

    lock = _thread_lock(path)
    acquired = lock.acquire(timeout=timeout) if timeout > 0 else lock.acquire(blocking=False)
    if not acquired:
        raise locked_error(path, os.getpid(), "held by another writer in this process")
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path)), lock
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                lock.release()
                raise
            if time.monotonic() >= deadline:
                lock.release()
                match = _PID.search(text)
                raise locked_error(path, int(match[1]) if match else None, text) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        except BaseException:
            lock.release()
            raise
