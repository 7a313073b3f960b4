"""The ``predict`` block: a model trained walk-forward on upstream series, one
prediction per bar that never uses a label the bar could not have known.

Semantics (also the catalog doc, see :data:`DOC`):

- features: inputs ``f1`` (required) to ``f6`` (optional), any float series (indicators,
  returns, a constant broadcasts). A bar whose features are not all finite is not a
  training row and predicts NaN.
- target (param ``target``): ``up`` -- the sign of the forward return over ``horizon``
  bars (1 if close[t+h] > close[t], else 0); the output is the probability of ``up``;
  ``return`` -- the forward return close[t+h] / close[t] - 1 (a fraction), the output is
  its prediction; ``series`` -- the ``label`` input ``horizon`` bars ahead (connect it).
- walk-forward: at bar t the model was trained only on rows whose label was already known
  at t's close (rows up to t - horizon); the last ``horizon`` rows are never training
  rows. ``window_mode`` ``rolling`` trains on the last ``window`` bars of those rows,
  ``expanding`` on all of them. The first model is trained at the first bar with at least
  ``min_history`` training rows; a new model every ``retrain_every`` bars after that; NaN
  before the first model.
- models: ``linear`` (numpy only: ridge or logistic regression, deterministic) and
  ``lightgbm`` (gradient-boosted trees, ``trees`` rounds, deterministic for ``seed``;
  needs the optional extra ``[ml]``).

Training happens in Python (:mod:`workbench.ml`), outside the numba kernels, inside the
compiled plan; fitted models are cached in memory by training-set content and never
stored in the graph. The training cost of a backtest is in its provenance
(``result.provenance["training"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.blocks.spec import Block, Context, Param, Port
from workbench.ml import models, train

FEATURES = tuple(f"f{i}" for i in range(1, 7))

DOC = ("Walk-forward prediction: a model (linear, or LightGBM with the [ml] extra) trained on the "
       "features f1..f6 to predict the target `horizon` bars ahead -- up (probability that close "
       "rises), return (forward return as a fraction) or series (the label input h bars ahead). At "
       "bar t only rows whose label was known at t train the model (rows up to t - horizon); the "
       "first model needs `min_history` such rows, a new one every `retrain_every` bars, on a rolling "
       "`window` or everything so far (expanding). NaN until the first model. Deterministic for a "
       "seed; models are not stored in the graph; training time is in the run's provenance.")


def _full(ctx: Context, x: Any) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), (ctx.n,)))


def _predict(ctx: Context, inputs: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    feats = [_full(ctx, inputs[f]) for f in FEATURES if f in inputs]
    if not feats:
        raise ValueError("predict needs at least one feature input (f1)")
    X = np.column_stack(feats)  # noqa: N806
    label = _full(ctx, inputs["label"]) if "label" in inputs else None
    horizon = int(params["horizon"])
    y = train.labels(str(params["target"]), horizon, np.asarray(ctx.close, dtype=np.float64), label)
    out = train.walk_forward(
        X, y, model=str(params["model"]), target=str(params["target"]), horizon=horizon,
        window_mode=str(params["window_mode"]), window=int(params["window"]),
        retrain_every=int(params["retrain_every"]), min_history=int(params["min_history"]),
        hyper={"seed": int(params["seed"]), "trees": int(params["trees"])}
        if params["model"] == "lightgbm" else {"l2": float(params["l2"])})
    return {"out": out}


def _check(params: Mapping[str, Any]) -> str | None:
    missing = models.missing_extra(str(params["model"]))
    if missing:
        return missing
    if params["window_mode"] == "rolling" and int(params["window"]) < int(params["min_history"]):
        return (f"a rolling window of {params['window']} bars can never hold min_history="
                f"{params['min_history']} training rows; make window >= min_history")
    return None


def _wiring(params: Mapping[str, Any], connected: frozenset[str]) -> str | None:
    if params["target"] == "series" and "label" not in connected:
        return "target 'series' predicts the label input horizon bars ahead: connect the label input"
    if params["target"] != "series" and "label" in connected:
        return f"the label input is read only with target 'series' (target is {params['target']!r})"
    return None


BLOCK = Block(
    "predict", "models", "Predict (walk-forward)", DOC,
    (*(Port(f, "series_float", f"feature {f[1:]}" + ("" if f == "f1" else " (optional)"),
            optional=f != "f1") for f in FEATURES),
     Port("label", "series_float", "the series to predict (target 'series' only; optional)", optional=True)),
    (Port("out", "series_float", "P(up) for target up, else the predicted value; NaN until the first model"),),
    (Param("target", "choice", "up", "what to predict horizon bars ahead", choices=train.TARGETS),
     Param("horizon", "int", 5, "bars ahead the label looks; the last horizon rows never train", min=1, max=10000),
     Param("model", "choice", "linear", "linear (numpy) or lightgbm (extra [ml])", choices=tuple(models.FITTERS)),
     Param("window_mode", "choice", "rolling", "train on the last `window` bars or on all bars so far",
           choices=train.WINDOW_MODES),
     Param("window", "int", 1000, "training window in bars (rolling mode)", min=10, max=10_000_000),
     Param("retrain_every", "int", 100, "bars between two trainings", min=1, max=10_000_000),
     Param("min_history", "int", 300, "training rows needed before the first model", min=10, max=10_000_000),
     Param("seed", "int", 0, "random seed (lightgbm; linear is deterministic without one)", min=0,
           max=2_147_483_647),
     Param("trees", "int", 50, "boosting rounds (lightgbm)", min=1, max=10000),
     Param("l2", "float", 1.0, "L2 penalty on standardised coefficients (linear)", min=0.0, max=1e9)),
    _predict, check=_check, wiring=_wiring, reads=("close",))

BLOCKS: tuple[Block, ...] = (BLOCK,)
