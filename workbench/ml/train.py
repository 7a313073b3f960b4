"""Walk-forward training by construction: labels, the retrain schedule, the model cache
and the training ledger behind the ``predict`` block.

Semantics (bars are evaluated at their close, as every block):

- **label** of row ``i``: what is known ``horizon`` bars later, at bar ``i + horizon``
  (``up``: 1 if close[i+h] > close[i] else 0; ``return``: close[i+h] / close[i] - 1;
  ``series``: the label input at i+h). NaN when i + h lies beyond the data.
- **training rows at bar t**: rows ``i <= t - horizon`` (:func:`last_training_row`)
  whose features and label are all finite -- exactly the rows whose label was already
  known at t's close; the last ``horizon`` rows before t are never training rows.
  ``window_mode="rolling"``: only the rows in the last ``window`` bars up to
  t - horizon; ``"expanding"``: every row since the first bar of the data.
- **schedule**: the first model is trained at the first bar t0 with at least
  ``min_history`` training rows, then at t0 + k, t0 + 2k, ... (``k = retrain_every``).
  The model trained at bar r predicts bars r .. r+k-1 from their own features (a bar
  with a NaN feature predicts NaN). Before t0 the output is NaN.

Because the schedule and every training set depend only on bars up to the bar they
serve, cutting the data after bar t (or changing any later bar) leaves the predictions
up to t unchanged -- what the look-ahead check verifies.

Model cache: fitted models are kept in memory keyed by a hash of everything the fit
reads (model, task, hyper-parameters with the seed, the training matrix and labels),
so a re-run over the same bars -- a sweep combination that did not change the block, a
look-ahead cut, a paper tick in a warm worker -- trains only the models that are new
(retrain only when due). A different process (a cold paper tick) recomputes them:
training is deterministic, so the values are the same, only slower.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import ValidationError
from workbench.ml import models

TARGETS = ("up", "return", "series")
WINDOW_MODES = ("rolling", "expanding")
CACHE_SIZE = 4096  # models (a 100k-bar run with the defaults needs ~1,000)
#: what one predict block may train in one run (params come from HTTP bodies too: a
#: retrain every bar with 10,000 trees over a million bars must not tie up a server)
MAX_MODELS = 10_000
MAX_TREES = 2_000_000  # models x trees (lightgbm)


def last_training_row(bar: int, horizon: int) -> int:
    """The newest row whose label is known at ``bar``'s close: ``bar - horizon``.

    One function so the no-peek tests can plant a leak (``bar - horizon + 1``: a label
    known one bar early) and prove the look-ahead check catches it.
    """
    return bar - horizon


def labels(target: str, horizon: int, close: np.ndarray, series: np.ndarray | None = None) -> np.ndarray:
    """The label of every row (NaN where row + horizon lies beyond the data)."""
    n = close.shape[0]
    y = np.full(n, np.nan)
    if horizon >= n:
        return y
    if target == "series":
        if series is None:
            raise ValueError("target 'series' needs the label input connected")
        y[:n - horizon] = series[horizon:]
    elif target == "return":
        y[:n - horizon] = close[horizon:] / close[:n - horizon] - 1.0
    elif target == "up":
        y[:n - horizon] = (close[horizon:] > close[:n - horizon]).astype(np.float64)
    else:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    return y


def task_of(target: str) -> str:
    return "classify" if target == "up" else "regress"


# -- the ledger: what training cost, read by the backtest into its provenance ----------

@dataclass
class TrainingLog:
    """Per ``predict`` call: models needed, trained, taken from the cache, seconds spent."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "models": sum(e["models"] for e in self.entries),
            "trained": sum(e["trained"] for e in self.entries),
            "cached": sum(e["cached"] for e in self.entries),
            "fit_seconds": round(sum(e["fit_seconds"] for e in self.entries), 6),
            "seconds": round(sum(e["seconds"] for e in self.entries), 6),
            "blocks": list(self.entries),
        }


_LOG: contextvars.ContextVar[TrainingLog | None] = contextvars.ContextVar("workbench_training_log", default=None)


def begin_training_log() -> tuple[TrainingLog, contextvars.Token[TrainingLog | None]]:
    """Start collecting (pair with :func:`end_training_log` in a ``finally``)."""
    log = TrainingLog()
    return log, _LOG.set(log)


def end_training_log(token: contextvars.Token[TrainingLog | None]) -> None:
    _LOG.reset(token)


@contextmanager
def training_log() -> Iterator[TrainingLog]:
    """Collect the training cost of every ``predict`` run inside the ``with`` block."""
    log, token = begin_training_log()
    try:
        yield log
    finally:
        end_training_log(token)


# -- the model cache -------------------------------------------------------------------

_CACHE: OrderedDict[str, models.Fitted] = OrderedDict()


def clear_cache() -> None:
    """Forget every cached model (tests; memory)."""
    _CACHE.clear()


def _key(model: str, task: str, hyper: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> str:  # noqa: N803
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((model, task, sorted(hyper.items()), X.shape)).encode())
    h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()


def _fitted(model: str, task: str, hyper: Mapping[str, Any], X: np.ndarray, y: np.ndarray  # noqa: N803
            ) -> tuple[models.Fitted, bool]:
    """The model for this training set and whether it was trained now (False: cached)."""
    key = _key(model, task, hyper, X, y)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit, False
    fitted = models.fit(model, X, y, task, hyper)
    _CACHE[key] = fitted
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fitted, True


# -- walk-forward ---------------------------------------------------------------------

def retrain_bars(valid: np.ndarray, horizon: int, window_mode: str, window: int, min_history: int,
                 every: int) -> list[int]:
    """The bars a model is trained at (see the module docstring)."""
    n = valid.shape[0]
    counts = np.concatenate(([0], np.cumsum(valid)))  # counts[j] = valid rows < j
    hi = np.minimum(last_training_row(np.arange(n), horizon), n - 1)  # type: ignore[arg-type]
    lo = np.maximum(0, hi - window + 1) if window_mode == "rolling" else np.zeros(n, dtype=np.int64)
    enough = (hi >= 0) & (counts[np.maximum(hi, -1) + 1] - counts[np.clip(lo, 0, n)] >= min_history)
    first = np.flatnonzero(enough)
    return list(range(int(first[0]), n, every)) if first.shape[0] else []


def _check_budget(n_models: int, n_bars: int, model: str, every: int, hyper: Mapping[str, Any]) -> None:
    """Refuse a run that would train more than :data:`MAX_MODELS` models (or, for
    lightgbm, more than :data:`MAX_TREES` trees), naming the fix."""
    trees = int(hyper.get("trees", 1)) if model == "lightgbm" else 1
    if n_models <= MAX_MODELS and n_models * trees <= MAX_TREES:
        return
    need = max(n_models / MAX_MODELS, n_models * trees / MAX_TREES)
    raise ValidationError(
        f"predict would train {n_models:,} models over {n_bars:,} bars (one every {every} bars"
        + (f", {trees} trees each" if model == "lightgbm" else "") + f"); one run may train at most "
        f"{MAX_MODELS:,} models and {MAX_TREES:,} trees: raise retrain_every to at least "
        f"{int(every * need) + 1}" + (" or use fewer trees" if model == "lightgbm" else ""),
        details={"models": n_models, "bars": n_bars, "retrain_every": every, "trees": trees,
                 "max_models": MAX_MODELS, "max_trees": MAX_TREES})


def walk_forward(features: np.ndarray, y: np.ndarray, *, model: str, target: str, horizon: int,
                 window_mode: str, window: int, retrain_every: int, min_history: int,
                 hyper: Mapping[str, Any]) -> np.ndarray:
    """Predictions per bar (NaN until the first model), ``features`` of shape (n, k)."""
    started = time.perf_counter()
    n = features.shape[0]
    out = np.full(n, np.nan)
    finite_x = np.isfinite(features).all(axis=1)
    valid = finite_x & np.isfinite(y)
    task = task_of(target)
    bars = retrain_bars(valid, horizon, window_mode, window, min_history, retrain_every)
    _check_budget(len(bars), n, model, retrain_every, hyper)
    trained = cached = 0
    fit_seconds = 0.0
    for r in bars:
        hi = min(last_training_row(r, horizon), n - 1)
        lo = max(0, hi - window + 1) if window_mode == "rolling" else 0
        rows = np.flatnonzero(valid[lo:hi + 1]) + lo
        t0 = time.perf_counter()
        fitted, fresh = _fitted(model, task, hyper, np.ascontiguousarray(features[rows]),
                                np.ascontiguousarray(y[rows]))
        if fresh:
            trained += 1
            fit_seconds += time.perf_counter() - t0
        else:
            cached += 1
        end = min(n, r + retrain_every)
        use = np.flatnonzero(finite_x[r:end]) + r
        if use.shape[0]:
            out[use] = fitted.predict(np.ascontiguousarray(features[use]))
    log = _LOG.get()
    if log is not None:
        log.entries.append({"model": model, "target": target, "horizon": horizon, "models": len(bars),
                            "trained": trained, "cached": cached, "fit_seconds": fit_seconds,
                            "seconds": time.perf_counter() - started, "n_bars": n})
    return out
