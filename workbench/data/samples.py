"""The sample candles shipped in ``data/`` (see data/README.md) and how to load them."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from workbench.data.cache import CandleCache, open_cache
from workbench.data.checks import GapWarning

#: file name -> (symbol, timeframe)
SAMPLES: dict[str, tuple[str, str]] = {
    "GOOG_1d.csv": ("GOOG", "1d"),
    "EURUSD_1h.csv": ("EURUSD", "1h"),
}


def data_dir() -> Path:
    """The checkout's ``data/`` folder, or the copy a wheel ships inside the package."""
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / next(iter(SAMPLES))).is_file():
        return checkout
    return Path(__file__).resolve().parent / "sample_files"


def load_samples(cache: CandleCache | None = None) -> list[dict[str, Any]]:
    """Import every sample file into ``cache`` (default cache if None); idempotent.

    Market-closed gaps (weekends, holidays) are expected in these files, so the gap
    warnings are silenced here; ``workbench data check data/GOOG_1d.csv`` lists them.
    """
    cache = cache or open_cache()
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GapWarning)
        for name, (symbol, timeframe) in SAMPLES.items():
            out.append(cache.import_file(data_dir() / name, symbol, timeframe))
    return out
