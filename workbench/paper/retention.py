"""Retention of stored tick notebooks: keep the newest N succeeded ones per run and every
failed one; older succeeded notebooks are deleted and their tick rows forget the path.

Why: a run ticking every 5 minutes stores ~100 KB per tick, forever. The ledger (fills,
state, tick rows) is never pruned -- only the executed notebooks, which can be re-made by
running the notebook for that bar. ``keep`` comes from ``--keep``, else
``$WORKBENCH_PAPER_KEEP`` (default 100); the newest tick's notebook is always kept (the
runner uses it to know a tick is complete).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.config import settings
from workbench.errors import ValidationError


def keep_setting(keep: int | None = None) -> int:
    value = keep if keep is not None else settings().paper_keep
    if value < 1:
        raise ValidationError(f"keep must be >= 1 (the newest notebook stays), got {value}.",
                              details={"keep": value})
    return value


@dataclass
class Pruned:
    run_id: str
    kept: int
    deleted: int
    bytes_freed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prune_run(store: Any, run_id: Any, keep: int | None = None, *,
              dry_run: bool = False) -> Pruned:
    """Delete the succeeded notebooks of ``run_id`` beyond the newest ``keep``."""
    n = keep_setting(keep)
    with_notebook = [t for t in store.ticks.list(run_id)  # newest first
                     if t.status == "succeeded" and t.notebook_path]
    old = with_notebook[n:]
    freed = 0
    for tick in old:
        if dry_run:
            continue
        freed += store.files.delete_file(tick.notebook_path)
        store.backend.update("paper_ticks", {"id": tick.id}, {"notebook_path": None})
    return Pruned(str(run_id), len(with_notebook) - len(old), len(old), freed)


def prune(store: Any, run_ids: list[Any] | None = None, keep: int | None = None, *,
          dry_run: bool = False) -> list[Pruned]:
    """:func:`prune_run` for the given runs (default: every run)."""
    ids = run_ids if run_ids else [r.id for r in store.paper_runs.list()]
    return [prune_run(store, rid, keep, dry_run=dry_run) for rid in ids]
