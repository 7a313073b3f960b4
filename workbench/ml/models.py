"""Models the ``predict`` block trains: a registry keyed by name (``linear``, ``lightgbm``).

Each model is fitted on a training matrix ``X`` (rows = bars, columns = features, no NaN)
and a label vector ``y`` and returns a fitted object with ``predict(X) -> ndarray``.
``task`` is ``"classify"`` (labels 0/1, the prediction is P(label = 1)) or
``"regress"`` (the prediction is the expected label).

- ``linear``: no extra dependency, numpy only, deterministic (no randomness at all; the
  seed is ignored). Features are standardised with the TRAINING rows' mean and population
  std; regression is ridge least squares, classification is L2-regularised logistic
  regression fitted by Newton's method (IRLS); the intercept is not penalised.
- ``lightgbm``: gradient-boosted trees (LightGBM, the optional extra ``[ml]``): learning
  rate 0.05, 15 leaves, at least 20 rows a leaf, 80% row bagging every round and 90% of
  the features a tree (so the seed matters), one thread, ``deterministic=True`` and every
  seed set from the block's ``seed``: the same data and seed give bit-identical models.

A training set whose labels are all one class (classification) gives a constant model
(that class's probability, 0 or 1): neither fitter is defined on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from workbench.errors import UnknownNameError
from workbench.extras import require

TASKS = ("classify", "regress")


class Fitted(Protocol):
    def predict(self, X: np.ndarray) -> np.ndarray: ...  # noqa: N803 (the ML convention)


@dataclass(frozen=True)
class Constant:
    """The one value every prediction takes (a one-class training set)."""

    value: float

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return np.full(X.shape[0], self.value)


@dataclass(frozen=True)
class Linear:
    """``w0 + ((x - mean) / scale) . w`` (through the logistic function when classifying)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # intercept first
    classify: bool

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        z = self.coef[0] + ((X - self.mean) / self.scale) @ self.coef[1:]
        return _sigmoid(z) if self.classify else z


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


def fit_linear(X: np.ndarray, y: np.ndarray, task: str, hyper: Mapping[str, Any]) -> Fitted:  # noqa: N803
    """Ridge (regress) or L2 logistic regression by Newton steps (classify)."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[~(scale > 0)] = 1.0
    Z = np.hstack([np.ones((X.shape[0], 1)), (X - mean) / scale])  # noqa: N806
    penalty = np.full(Z.shape[1], float(hyper.get("l2", 1.0)))
    penalty[0] = 0.0
    if task == "regress":
        coef = np.linalg.solve(Z.T @ Z + np.diag(penalty) + 1e-12 * np.eye(Z.shape[1]), Z.T @ y)
        return Linear(mean, scale, coef, False)
    coef = np.zeros(Z.shape[1])
    for _ in range(50):
        p = _sigmoid(Z @ coef)
        grad = Z.T @ (p - y) + penalty * coef
        hess = (Z * (p * (1.0 - p))[:, None]).T @ Z + np.diag(penalty) + 1e-9 * np.eye(Z.shape[1])
        step = np.linalg.solve(hess, grad)
        coef = coef - step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return Linear(mean, scale, coef, True)


@dataclass(frozen=True)
class Boosted:
    booster: Any
    classify: bool

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        return np.asarray(self.booster.predict(X, num_threads=1), dtype=np.float64)


def fit_lightgbm(X: np.ndarray, y: np.ndarray, task: str, hyper: Mapping[str, Any]) -> Fitted:  # noqa: N803
    """LightGBM trees, single-threaded and deterministic for ``hyper["seed"]``."""
    require("ml", "lightgbm")
    import lightgbm as lgb

    seed = int(hyper.get("seed", 0))
    params = {
        "objective": "binary" if task == "classify" else "regression",
        "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20, "feature_fraction": 0.9,
        "bagging_fraction": 0.8, "bagging_freq": 1, "verbose": -1, "num_threads": 1, "deterministic": True,
        "force_row_wise": True, "seed": seed, "data_random_seed": seed, "bagging_seed": seed,
        "feature_fraction_seed": seed, "feature_pre_filter": False,
    }
    data = lgb.Dataset(X, label=y, params={"verbose": -1, "feature_pre_filter": False})
    booster = lgb.train(params, data, num_boost_round=int(hyper.get("trees", 50)))
    return Boosted(booster, task == "classify")


FITTERS: dict[str, Callable[[np.ndarray, np.ndarray, str, Mapping[str, Any]], Fitted]] = {
    "linear": fit_linear,
    "lightgbm": fit_lightgbm,
}

#: which optional extra a model needs (None: none), for validation messages
EXTRAS: dict[str, tuple[str, str] | None] = {"linear": None, "lightgbm": ("ml", "lightgbm")}


def fit(model: str, X: np.ndarray, y: np.ndarray, task: str, hyper: Mapping[str, Any]) -> Fitted:  # noqa: N803
    """Fit ``model`` (a key of :data:`FITTERS`) on ``X``, ``y`` for ``task``."""
    try:
        fitter = FITTERS[model]
    except KeyError:
        raise UnknownNameError.build("model", model, list(FITTERS)) from None
    if task == "classify" and np.unique(y).shape[0] < 2:
        return Constant(float(y[0]))
    return fitter(X, y, task, hyper)


def missing_extra(model: str) -> str | None:
    """A message naming the extra when ``model`` needs one that is not installed."""
    from workbench.errors import MissingDependencyError

    need = EXTRAS.get(model)
    if need is None:
        return None
    try:
        require(*need)
    except MissingDependencyError as exc:
        return f"model {model!r} needs the optional extra [{need[0]}]: {exc.message}"
    return None
