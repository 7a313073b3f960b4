"""Open, pause, resume and stop paper runs (the steps :mod:`workbench.runs.paper` calls).

Opening a run of a saved version counts one ``paper_trade_runs`` unit of the owner's plan
(the check and the count are one atomic step: over the limit nothing is created) and
writes an audit event. Status changes go through the records' transitions and are
audited too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.errors import DataError, ValidationError
from workbench.paper import sources
from workbench.paper.alerts import check, parse_alerts
from workbench.paper.schedule import as_utc, check_cron, zone
from workbench.records.models import PaperTradeRun, StrategyVersion


def _check_data(run_source: str, symbol: str, timeframe: str, start: Any,
                cache: Any = None) -> None:
    if run_source == "ccxt":
        return
    from workbench.data.cache import open_cache
    from workbench.errors import NotFoundError

    try:
        n = (cache or open_cache(read_only=True)).read_arrays(symbol, timeframe, start).n
    except NotFoundError:
        n = 0
    if n == 0:
        raise DataError(f"No cached {symbol} {timeframe} candles{' from ' + str(start) if start else ''}"
                        f" for a {run_source} paper run; import some first (`workbench data "
                        f"import data/`) or pick another --symbol/--timeframe/--start.",
                        details={"symbol": symbol, "timeframe": timeframe, "start": str(start)})


def open_run(store: Any, owner_id: Any, version_of: Callable[[], StrategyVersion],
             strategy_name: str, *,
             symbol: str | None = None, timeframe: str, cash: float = 10_000.0,
             schedule: str = "*/5 * * * *", alerts: list[str] | dict[str, Any] | None = None,
             source: str = "replay", start: Any = None, tz: str = "UTC",
             name: str | None = None, params: dict[str, Any] | None = None,
             settings: dict[str, Any] | None = None, warmup_bars: int = 0, anchor: Any = None,
             exchange: str | None = None, cache: Any = None, symbols: Any = None,
             portfolio: dict[str, Any] | None = None) -> PaperTradeRun:
    """A new paper run of the strategy version ``version_of()`` returns, called once the
    options are checked and the quota is counted (saving is the caller's:
    :func:`workbench.runs.paper.create_run` saves by the one strategy rule).

    ``cash``: initial cash (quote currency). ``schedule``: cron, evaluated in ``tz``.
    ``alerts``: ``["drawdown=0.1", ...]`` or ``{"drawdown": 0.1}``: exactly these rules
    (None: :data:`~workbench.paper.alerts.DEFAULTS`). ``source``: replay, cache or ccxt.
    ``start``: first bar (inclusive). Replay only: ``warmup_bars`` bars are already
    closed when the run starts, ``anchor`` (default now) is when its simulated clock
    starts. ``cache``: the candle cache to check (default the configured one). Raises
    QuotaExceededError over the plan.

    ``symbols`` (instead of ``symbol``): a list, ``"A,B"`` or a universe name; the run
    trades them on one shared cash account under the ``portfolio`` rules, as
    ``wb.backtest(symbols=..., portfolio=...)`` does (:mod:`workbench.paper.universe`).
    The resolved list is stored in the run (a universe edited later does not change it);
    a symbol without cached candles is named in the DataError.
    """
    from workbench.data.timeframes import validate as check_tf
    from workbench.governance import audit, quotas
    from workbench.paper import universe

    check_tf(timeframe)
    if (symbol is None) == (symbols is None):
        raise ValidationError("Give one symbol (--symbol) or a universe (--symbols: a list or "
                              "a universe name), not both.",
                              details={"symbol": symbol, "symbols": str(symbols)})
    if portfolio is not None and symbols is None:
        raise ValidationError("portfolio rules apply to a universe run: give symbols too.",
                              details={"portfolio": sorted(portfolio)})
    check_cron(schedule)
    zone(tz)
    sources.get_source(source)
    if not cash > 0:
        raise ValidationError(f"--cash must be positive, got {cash}.", details={"cash": cash})
    if warmup_bars < 0:
        raise ValidationError("warmup_bars must be >= 0.", details={"warmup_bars": warmup_bars})
    config = check(dict(alerts)) if isinstance(alerts, dict) else parse_alerts(alerts)
    start_iso = as_utc(start).isoformat() if start is not None else None
    syms: list[str] | None = None
    uname: str | None = None
    rules: dict[str, Any] | None = None
    if symbols is not None:
        syms, uname = universe.resolve(symbols, timeframe)
        rules = universe.check_rules(portfolio)
        if source != "ccxt":
            universe.check_data(syms, timeframe, start_iso, cache)
        symbol = universe.label(syms, uname)
    else:
        _check_data(source, str(symbol), timeframe, start_iso, cache)
    owner = store.profiles.get(owner_id) if owner_id else store.current_user()
    quotas.consume(store, owner.id, "paper_trade_runs")
    version = version_of()
    parameters: dict[str, Any] = {
        "source": source, "start": start_iso, "tz": tz,
        "settings": {**dict(settings or {}), "initial_cash": float(cash)},
        "params": dict(params or {}), "warmup_bars": int(warmup_bars),
        "anchor": as_utc(anchor if anchor is not None else "now").isoformat(),
    }
    if exchange:
        parameters["exchange"] = exchange
    if syms is not None:
        parameters.update({"symbols": syms, "universe": uname, "portfolio": rules})
    run = store.paper_runs.create(owner.id, symbol=symbol, timeframe=timeframe,
                                  strategy_version_id=version.id,
                                  name=name or f"{strategy_name} {symbol} {timeframe}",
                                  schedule=schedule, parameters=parameters, alert_config=config)
    audit.record(store, "paper.create", actor_id=owner.id, entity_type="paper_trade_run",
                 entity_id=run.id, details={"symbol": symbol, "symbols": syms,
                                            "timeframe": timeframe,
                                            "source": source, "schedule": schedule,
                                            "strategy_version_id": str(version.id)})
    return run


def _change(store: Any, run_id: Any, status: str, action: str, actor: Any) -> PaperTradeRun:
    from workbench.governance import audit

    run = store.paper_runs.set_status(run_id, status, actor=actor)
    audit.record(store, f"paper.{action}", actor_id=store.actor_id(actor) or run.owner_id,
                 entity_type="paper_trade_run", entity_id=run.id, details={"status": status})
    return run


def pause(store: Any, run_id: Any, *, actor: Any = None) -> PaperTradeRun:
    """scheduled/active -> paused: due ticks are skipped until resumed."""
    return _change(store, run_id, "paused", "pause", actor)


def resume(store: Any, run_id: Any, *, actor: Any = None) -> PaperTradeRun:
    """paused or stopped -> active; the next tick catches up every bar closed meanwhile."""
    return _change(store, run_id, "active", "resume", actor)


def stop(store: Any, run_id: Any, *, actor: Any = None) -> PaperTradeRun:
    """-> stopped: no more ticks until resumed; the ledger stays."""
    return _change(store, run_id, "stopped", "stop", actor)


def find_run(store: Any, ref: str) -> PaperTradeRun:
    """A run by id or by a unique id prefix (what the CLI accepts)."""
    import uuid

    from workbench.errors import NotFoundError

    try:
        return store.paper_runs.get(uuid.UUID(ref))
    except ValueError:
        pass
    found = [r for r in store.paper_runs.list() if str(r.id).startswith(ref.lower())]
    if len(found) == 1:
        return found[0]
    raise NotFoundError(f"No single paper run matches {ref!r} ({len(found)} match); see "
                        f"`workbench paper list`.", details={"ref": ref, "matches": len(found)})
