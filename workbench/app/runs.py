"""Running one backtest for the app: the run record's lifecycle, the stored result document
and the honest-metric warnings shown beside the numbers.

The runner, not the caller, writes status (queued -> running -> succeeded/failed), so a
crashed page never leaves a run half-recorded. The result document (metrics, equity,
drawdown, trades; JSON) goes to the store's files under ``results/<run id>.json`` and
its URI into the run's provenance, so Results and Compare can draw a run later, on any
backend.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.records import Store

Progress = Callable[[float, str], None]

MAX_POINTS = 5000  # equity points kept in the stored document (charts need no more)


def honest_warnings(metrics: dict[str, Any], n_bars: int, timeframe: str) -> list[str]:
    """Plain-language caveats for metrics that look better than the evidence allows."""
    out: list[str] = []
    trades = _num(metrics.get("trades", metrics.get("num_trades", metrics.get("n_trades"))))
    if trades is not None and trades < 30:
        out.append(f"Only {int(trades)} trades: win rate, profit factor and expectancy are "
                   "noisy below ~30 trades.")
    try:
        from workbench.data.timeframes import bars_per_year

        years = n_bars / bars_per_year(timeframe) if n_bars else 0.0
    except Exception:  # noqa: BLE001 - a caveat must never break a run
        years = 0.0
    if 0 < years < 1:
        out.append(f"The test covers {years:.2f} years: CAGR, Sharpe and Sortino are "
                   "annualized from less than a year of data.")
    sharpe = _num(metrics.get("sharpe"))
    if sharpe is not None and sharpe > 3:
        out.append(f"Sharpe {sharpe:.2f} is unusually high: check for look-ahead, too few "
                   "trades or an over-fitted parameter choice.")
    exposure = _num(metrics.get("exposure"))
    if exposure is not None and exposure < 0.05:
        out.append("In the market less than 5% of the time: returns rest on very few bars.")
    out.append("Backtests are simulated on past data with the stated fees and slippage; "
               "they do not predict future results.")
    return out


def _covered(warning: str, existing: list[str]) -> bool:
    """True when the engine already warned about the same thing (trades, short window)."""
    text = " ".join(existing).lower()
    for topic in ("trades", "year", "sharpe", "exposure"):
        if topic in warning.lower().split(":")[0] and topic in text:
            return True
    return False


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "item"):
        return _jsonable(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def result_document(result: Any, timeframe: str) -> dict[str, Any]:
    """The stored, JSON-able picture of a Result: metrics, equity, drawdown, trades."""
    import pandas as pd

    metrics = _jsonable(dict(result.metrics.items()))
    equity = result.equity
    if len(equity) > MAX_POINTS:
        step = math.ceil(len(equity) / MAX_POINTS)
        equity = pd.concat([equity.iloc[::step], equity.iloc[-1:]])
        equity = equity[~equity.index.duplicated(keep="last")]
    idx = pd.DatetimeIndex(equity.index)
    ts = [int(t) // 1_000_000 for t in idx.asi8] if idx.tz is None else [
        int(t) // 1_000_000 for t in idx.tz_convert("UTC").asi8]
    values = [float(v) for v in equity.to_numpy()]
    close_src = getattr(result, "close", None)
    close = [_jsonable(float(v)) for v in close_src.reindex(equity.index).to_numpy()] \
        if close_src is not None else []
    peak = equity.cummax()
    drawdown = [float(v) for v in (equity / peak - 1.0).to_numpy()]
    trades = result.trades
    if trades is not None and len(trades):
        flat = trades.reset_index() if trades.index.name else trades.reset_index(drop=True)
        trade_rows = _jsonable(flat.to_dict(orient="records"))
    else:
        trade_rows = []
    n_bars = len(result.equity)
    warnings = list(getattr(result, "warnings", []) or [])
    warnings = [str(w) for w in warnings]
    warnings += [w for w in honest_warnings(metrics, n_bars, timeframe)
                 if not _covered(w, warnings)]
    return {"schema": "workbench.app.result/1", "metrics": metrics,
            "equity": {"ts_ms": ts, "value": values}, "drawdown": drawdown, "close": close,
            "trades": trade_rows, "warnings": warnings, "bars": n_bars,
            "provenance": _jsonable(dict(getattr(result, "provenance", {}) or {}))}


def execute_backtest(st: Store, uid: uuid.UUID, run_id: str, graph: dict[str, Any],
                     params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run a queued backtest to the end and record it; returns a small summary."""
    from workbench import api

    st.backtests.start(run_id)
    try:
        progress(0.1, "loading candles")
        progress(0.3, "running the engine")
        result = api.backtest(graph, symbol=params["symbol"], timeframe=params["timeframe"],
                              start=params.get("start"), end=params.get("end"),
                              params=params.get("params") or None,
                              settings=params.get("settings") or None)
        progress(0.8, "saving the result")
        doc = result_document(result, params["timeframe"])
        uri = st.files.put_file(f"results/{run_id}.json", json.dumps(doc).encode())
        st.backtests.succeed(run_id, doc["metrics"],
                             provenance={**doc["provenance"], "result_uri": uri})
    except WorkbenchError as exc:
        st.backtests.fail(run_id, exc.message)
        _notify(st, uid, "Backtest failed", run_id, params, error=exc.message)
        raise
    except Exception as exc:
        st.backtests.fail(run_id, f"internal error: {exc}")
        _notify(st, uid, "Backtest failed", run_id, params, error="internal error")
        raise
    _notify(st, uid, "Backtest complete", run_id, params, metrics=doc["metrics"])
    return {"run_id": run_id, "metrics": doc["metrics"], "warnings": doc["warnings"]}


def _notify(st: Store, uid: uuid.UUID, title: str, run_id: str, params: dict[str, Any],
            **extra: Any) -> None:
    from workbench.app.services import notify

    name = params.get("strategy_name") or "strategy"
    payload = {"run_id": run_id, "symbol": params.get("symbol"),
               "timeframe": params.get("timeframe"), **_jsonable(extra)}
    try:
        notify(st, uid, "backtest_complete",
               f"{title}: {name} on {params.get('symbol')} {params.get('timeframe')}", payload)
    except WorkbenchError:
        pass  # a notification failure must not fail the run
