"""How long a page of `workbench serve` takes to load, in headless Chromium, on the sample data.

Starts the app in a subprocess (temporary WORKBENCH_HOME with GOOG 1d and two recorded runs),
then times navigation -> the page's main component rendered:

* Canvas  : the block canvas (``[data-testid=canvas-root]``) with the starter graph;
* Results : the equity chart's <canvas> of the latest run;
* Compare : the overlaid equity chart of two runs;
* Data    : the table of cached series.

The first load of each page in a fresh server includes Python imports (hvplot, holoviews);
it is reported apart from the warm median. Baseline: a bare Panel page served by the same
process (the floor any page pays). The target from the issue is 2 s; reported, not asserted.

    make bench BENCH_ARGS="app"          # or: python bench/bench_app.py [--repeat 5]
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {
    "canvas": ("", '[data-testid="canvas-root"]'),
    "results": ("?page=results", ".wb-equity-chart canvas"),
    "compare": ("?page=compare", ".wb-compare-chart canvas"),
    "data": ("?page=data", ".wb-data-table table"),
}
TARGET_S = 2.0


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"WORKBENCH_HOME": str(home), "PYTHONUNBUFFERED": "1",
                "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR",
                                                  str(ROOT / ".cache" / "numba"))})
    env.pop("WORKBENCH_STORE", None)
    return env


SEED = """
import warnings
warnings.simplefilter("ignore")
from workbench.data.cache import open_cache
open_cache().import_file({csv!r})
from workbench.app import services
from workbench.app.auth import local_principal
from workbench.app.http.models import BacktestRequest
from workbench.app.jobs import JobRunner
jobs = JobRunner()
p = local_principal()
for start in (None, "2008-01-01"):
    rid = services.submit_backtest(p, BacktestRequest(strategy="sma_crossover", symbol="GOOG",
                                   timeframe="1d", start=start), jobs)
    jobs.wait(rid, timeout=300)
jobs.shutdown()
"""


def _serve(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--port", "0"],
                                env=_env(home), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text())
        if found:
            return proc, found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"workbench serve did not start:\n{log.read_text()}")


def _time_page(browser: object, url: str, selector: str) -> float:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(selector, timeout=120_000)
    elapsed = time.perf_counter() - t0
    context.close()
    return elapsed


def main(argv: list[str]) -> int:
    repeat = 5
    if "--repeat" in argv:
        repeat = int(argv[argv.index("--repeat") + 1])
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c",
                        SEED.format(csv=str(ROOT / "data" / "GOOG_1d.csv"))],
                       env=_env(home), check=True, timeout=600)
        print(f"seeded sample data and 2 runs in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        proc, url = _serve(home, home / "serve.log")
        print(f"server up (URL printed) in {time.perf_counter() - t0:.2f} s: {url}")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=CHROMIUM_ARGS)
                docs = _time_page(browser, url + "api/v1/docs", "table")
                print(f"{'page':<10}{'first (s)':>11}{'warm median (s)':>17}{'min':>8}"
                      f"{'vs 2 s target':>15}")
                for name, (query, selector) in PAGES.items():
                    first = _time_page(browser, url + query, selector)
                    warm = [_time_page(browser, url + query, selector) for _ in range(repeat)]
                    med = statistics.median(warm)
                    print(f"{name:<10}{first:>11.2f}{med:>17.2f}{min(warm):>8.2f}"
                          f"{med / TARGET_S:>14.2f}x")
                print(f"baseline: API docs page (static HTML from the same server) "
                      f"{docs * 1000:.0f} ms")
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
