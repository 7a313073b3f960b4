"""Run every benchmark (``bench/bench_*.py``, each with a ``main(argv)``) or the ones named.

    make bench                       # all of them
    make bench BENCH_ARGS="engine"   # only bench/bench_engine.py

Benchmarks print figures and ratios against the peers measured in the same run; they are
never part of the test suite (these machines are shared and noisy).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")]
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    if not scripts:
        print(f"no benchmark matches {names}; have: "
              f"{[s.stem.removeprefix('bench_') for s in HERE.glob('bench_*.py')]}")
        return 2
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        spec = importlib.util.spec_from_file_location(script.stem, script)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main([a for a in argv if a.startswith("-")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
