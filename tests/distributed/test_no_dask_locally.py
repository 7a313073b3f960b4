"""Without a client, a sweep imports neither dask nor workbench.distributed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_a_local_sweep_imports_no_dask() -> None:
    code = textwrap.dedent("""
        import sys
        import workbench.api as api
        from workbench.data.sources.synthetic import generate

        frame = api.sweep("sma_crossover", {"fast.window": [5, 10], "slow.window": [30]},
                          candles=generate("SYN", "1h", 500, 1), timeframe="1h", progress=False)
        assert len(frame) == 2, frame
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")
                        or m.startswith("workbench.distributed"))
        print("LOADED", loaded)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout, out.stdout


def test_the_cli_help_imports_no_dask() -> None:
    code = ("import sys\nfrom workbench.cli import app\n"
            "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout, out.stdout
