"""JSON for the values the project hands out (timestamps, ids, paths, numpy numbers,
pydantic records), in one place: :func:`default` for ``json.dumps`` (the CLI's ``--json``
and the app's HTTP responses) and :func:`plain` for a whole document (the stored result
document, the server extension, the canvas), so every host prints a value the same way."""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any


def default(obj: Any) -> Any:
    """``json.dumps(..., default=default)``; raises ``TypeError`` for anything else."""
    import numpy as np
    import pydantic

    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path | uuid.UUID):
        return str(obj)
    if isinstance(obj, np.generic | np.ndarray):
        return obj.tolist()
    if isinstance(obj, pydantic.BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def plain(value: Any) -> Any:
    """``value`` as plain JSON values, recursively: numpy unwrapped, timestamps as ISO text,
    ids and paths as text, NaN and infinity as ``None`` (JSON has neither, and
    ``json.dumps(allow_nan=False)`` refuses them)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat") and value != value:  # noqa: PLR0124 - pandas' NaT
        return None
    try:
        out = default(value)
    except TypeError:
        if hasattr(value, "isoformat"):  # pandas Timestamp is a datetime; Timedelta too
            return value.isoformat()
        raise
    return plain(out)
