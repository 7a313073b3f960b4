"""Named universes: lists of symbols a universe backtest runs over.

Kept in ``$WORKBENCH_HOME/universes.json`` (``{"name": ["SYM", ...]}``), written with
:func:`save_universe`. The name ``all`` is built in: every symbol cached at the
timeframe asked for (``workbench data list``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from workbench.errors import UnknownNameError, ValidationError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_SYMBOLS = 5000


def _path() -> Path:
    from workbench.config import home

    return home() / "universes.json"


def _read() -> dict[str, list[str]]:
    path = _path()
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): [str(s) for s in v] for k, v in data.items()} if isinstance(data, dict) else {}


def clean_symbols(symbols: Iterable[object], where: str = "symbols") -> list[str]:
    """The symbols as a list of non-empty strings without duplicates (order kept)."""
    if isinstance(symbols, str | bytes):
        raise ValidationError(f"{where}: a list of symbols, got one string", details={"param": where})
    out: list[str] = []
    for s in symbols:
        if not isinstance(s, str) or not s.strip():
            raise ValidationError(f"{where}: every symbol is a non-empty string, got {s!r}",
                                  details={"param": where, "value": repr(s)})
        if s.strip() not in out:
            out.append(s.strip())
    if not out:
        raise ValidationError(f"{where}: no symbols given", details={"param": where})
    if len(out) > MAX_SYMBOLS:
        raise ValidationError(f"{where}: at most {MAX_SYMBOLS} symbols, got {len(out)}",
                              details={"param": where, "count": len(out), "max": MAX_SYMBOLS})
    return out


def save_universe(name: str, symbols: Iterable[str]) -> list[str]:
    """Store (or replace) the universe ``name``; returns its symbols."""
    if not isinstance(name, str) or not _NAME.match(name) or name == "all":
        raise ValidationError(f"universe name {name!r}: letters, digits, _ . - (up to 64), not 'all'",
                              details={"param": "name", "value": repr(name)})
    syms = clean_symbols(symbols)
    data = _read()
    data[name] = syms
    path = _path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return syms


def universe_names() -> list[str]:
    """The stored universe names, plus the built-in ``all``."""
    return ["all", *sorted(_read())]


def universe(name: str, timeframe: str | None = None) -> list[str]:
    """The symbols of universe ``name`` (``all``: every symbol cached at ``timeframe``)."""
    if name == "all":
        if not timeframe:
            raise ValidationError("the universe 'all' needs a timeframe", details={"universe": name})
        from workbench.data.cache import open_cache

        with open_cache(read_only=True) as cache:
            syms = sorted({s["symbol"] for s in cache.list() if s["timeframe"] == timeframe})
        if not syms:
            raise ValidationError(f"no symbols cached at {timeframe}: import some first",
                                  details={"universe": name, "timeframe": timeframe})
        return syms
    data = _read()
    if name not in data:
        raise UnknownNameError.build("universe", name, ["all", *data])
    return list(data[name])
