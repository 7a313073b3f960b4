"""Walk-forward machine learning for the ``predict`` block: models (``linear`` without
extra dependencies, ``lightgbm`` with the ``[ml]`` extra) and the training schedule.

Training runs in Python here, outside the numba kernels, but inside the strategy's
compiled plan (the block's compute calls :func:`walk_forward`), so backtests, sweeps,
the look-ahead check, paper ticks and exports all train the same way. Models are never
stored in the strategy graph, only the block's params.
"""

from __future__ import annotations

from workbench.ml.models import FITTERS, fit, missing_extra
from workbench.ml.train import (
    TARGETS,
    WINDOW_MODES,
    TrainingLog,
    begin_training_log,
    clear_cache,
    end_training_log,
    labels,
    last_training_row,
    training_log,
    walk_forward,
)

__all__ = ["FITTERS", "TARGETS", "WINDOW_MODES", "TrainingLog", "begin_training_log", "clear_cache",
           "end_training_log", "fit", "labels", "last_training_row", "missing_extra", "training_log",
           "walk_forward"]
