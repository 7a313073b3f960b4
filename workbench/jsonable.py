"""JSON for the values the project hands out (timestamps, ids, paths, numpy numbers,
pydantic records): one ``default=`` for ``json.dumps``, shared by the CLI's ``--json``
and the app's HTTP responses, so both print a record the same way."""

from __future__ import annotations

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
