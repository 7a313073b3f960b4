"""One writer at a time, readers never blocked: with real processes on a real file.

A helper process holds a write session open (after writing a batch it has not yet
published) until the test tells it to finish.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench.data.cache import CandleCache, open_cache
from workbench.data.sources.synthetic import generate
from workbench.errors import CacheLockedError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from workbench.data.cache import open_cache
    from workbench.data.sources.synthetic import generate
    path, go = sys.argv[1], Path(sys.argv[2])
    cache = open_cache(path)
    with cache.writer() as w:
        w.upsert(generate("S", "1h", 200, seed=1), "S", "1h", source="second")
        print("holding", flush=True)
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    print("done", flush=True)
""")

READER = textwrap.dedent("""
    import sys, json
    from workbench.data.cache import open_cache
    cache = open_cache(sys.argv[1], read_only=True)
    c = cache.read_arrays("S", "1h")
    print(json.dumps({"rows": c.n, "list": cache.list()[0]["rows"]}), flush=True)
""")

SLOW_READER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import pyarrow.parquet as pq
    from workbench.data.cache import open_cache
    cache = open_cache(sys.argv[1], read_only=True)
    pf = pq.ParquetFile(cache.snapshot_dir / cache._manifest()[0]["file"])  # a long read starts
    print("reading", flush=True)
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.02)
    print(pf.read(columns=["close"]).num_rows, flush=True)
""")


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != expected:
        proc.kill()
        raise AssertionError(f"helper said {line!r}: {proc.stderr.read() if proc.stderr else ''}")


@pytest.fixture
def seeded(cache: CandleCache) -> CandleCache:
    cache.upsert(generate("S", "1h", 100, seed=1), "S", "1h", source="first")
    return cache


def test_second_writer_gets_locked_error_with_pid_and_readers_see_last_version(
        seeded: CandleCache, tmp_path: Path) -> None:
    go = tmp_path / "go"
    holder = _start(HOLDER, str(seeded.path), str(go))
    try:
        _wait_line(holder, "holding")
        # A second writer (this process) is refused, naming the holder's pid.
        with pytest.raises(CacheLockedError) as err:
            open_cache(seeded.path, lock_timeout=0.3).upsert(
                generate("S", "1h", 5, seed=2), "S", "1h", source="third")
        assert f"candle cache {seeded.path} is locked by pid {holder.pid}" in err.value.message
        assert err.value.details["pid"] == holder.pid
        assert err.value.code == "cache_locked"
        # Readers during the write: not blocked, and they see the last complete version.
        readers = [_start(READER, str(seeded.path)) for _ in range(2)]
        outs = [r.communicate(timeout=60) for r in readers]
        assert [r.returncode for r in readers] == [0, 0], outs
        assert [o[0].strip() for o in outs] == ['{"rows": 100, "list": 100}'] * 2
        assert open_cache(seeded.path, read_only=True).read_arrays("S", "1h").n == 100
    finally:
        go.touch()
        out, errtext = holder.communicate(timeout=60)
    assert holder.returncode == 0, errtext
    assert seeded.read_arrays("S", "1h").n == 200  # published when the session ended


def test_long_read_blocks_neither_readers_nor_the_writer(seeded: CandleCache,
                                                         tmp_path: Path) -> None:
    go = tmp_path / "go"
    slow = _start(SLOW_READER, str(seeded.path), str(go))
    try:
        _wait_line(slow, "reading")
        fast = _start(READER, str(seeded.path))
        out, _ = fast.communicate(timeout=60)
        assert fast.returncode == 0 and '"rows": 100' in out
        # The writer replaces the snapshot the slow reader has open (timeout = a hang).
        seeded.upsert(generate("S", "1h", 150, seed=1), "S", "1h", source="more")
        assert seeded.read_arrays("S", "1h").n == 150
    finally:
        go.touch()
        out, errtext = slow.communicate(timeout=60)
    assert slow.returncode == 0, errtext
    assert out.split() == ["100"]  # the long read finished on the version it opened


def test_second_writer_in_the_same_process_is_refused(seeded: CandleCache) -> None:
    import os

    with seeded.writer():
        with pytest.raises(CacheLockedError, match=f"locked by pid {os.getpid()}"):
            with open_cache(seeded.path, lock_timeout=0).writer():
                pass
    with open_cache(seeded.path, lock_timeout=0).writer():  # free again afterwards
        pass
