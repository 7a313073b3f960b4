"""Alert rules of a paper run, raised as ``paper_trade_alert`` notifications.

``alert_config`` keys (``--alert key=value``); a rule is on only when its key is in the
run's ``alert_config`` with a non-zero value (a run created without any alert gets
:data:`DEFAULTS`; a run that names some gets exactly those):

``drawdown``     fraction (0.1 = 10%): equity falls to this far below its running peak
                 (raised on the bar it crosses the line, not on every bar below it)
``loss_streak``  trades: this many losing round trips in a row (raised on the exit bar of
                 the trade that completes the streak)
``no_data``      bars: no new closed bar for this many timeframes past the expected one
                 (raised once per last-seen bar)
``gap_sigma``    k: a bar opens more than k standard deviations (of the previous 50 bars'
                 close-to-close log returns) away from the previous close; a universe run
                 watches each symbol on its own bars (a symbol without a bar at a time is
                 skipped there, not counted as a gap) and the alert names the symbol
``drift``        on/off: bars already committed now give different fills (the candle
                 history was revised under the run); paper has left the backtest

Every alert is dated by its bar (the candle's timestamp, ``bar_ts``), never by the wall
clock of the tick that found it. Each alert is raised at most once per (run, bar, kind,
symbol when it names one): its key is stored in the
notification's payload and checked under a per-run lock before sending, so replaying or
crashing a tick never sends it twice.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ValidationError

DEFAULTS: dict[str, float] = {"drawdown": 0.2, "loss_streak": 5, "no_data": 5,
                              "gap_sigma": 6.0, "drift": 1}
GAP_WINDOW = 50
TYPE = "paper_trade_alert"


@dataclass(frozen=True)
class Alert:
    kind: str
    bar_ts: str  # ISO UTC
    value: float
    threshold: float
    message: str
    symbol: str | None = None  # a universe run's per-symbol alert (gap) names its symbol

    def key(self, run_id: Any) -> str:
        base = f"{run_id}:{self.bar_ts}:{self.kind}"
        return base if self.symbol is None else f"{base}:{self.symbol}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_alerts(items: list[str] | None) -> dict[str, float]:
    """``["drawdown=0.1", "loss_streak=5"]`` -> exactly those rules; None -> :data:`DEFAULTS`."""
    if items is None:
        return dict(DEFAULTS)
    config: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULTS:
            raise ValidationError(f"Alert {item!r}: write NAME=VALUE with NAME one of "
                                  f"{', '.join(DEFAULTS)}, e.g. drawdown=0.1.",
                                  details={"alert": item})
        try:
            config[name] = float(raw)
        except ValueError:
            raise ValidationError(f"Alert {item!r}: {raw!r} is not a number.",
                                  details={"alert": item}) from None
    return check(config)


def check(config: dict[str, Any]) -> dict[str, float]:
    """A config of known rules with sane values (what a form or ``--alert`` gives)."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValidationError(f"Unknown alert(s) {unknown}; use {', '.join(DEFAULTS)}.",
                              details={"alerts": unknown})
    out: dict[str, float] = {}
    for name, value in config.items():
        try:
            out[name] = float(value or 0)
        except (TypeError, ValueError):
            raise ValidationError(f"Alert {name}: {value!r} is not a number.",
                                  details={"alert": name}) from None
        if not math.isfinite(out[name]) or out[name] < 0:
            raise ValidationError(f"Alert {name} must be a number >= 0, got {value!r}.",
                                  details={"alert": name})
    if not out.get("drawdown", 0) < 1:
        raise ValidationError("Alert drawdown is a fraction in [0, 1): 0.1 = 10%.",
                              details={"drawdown": out["drawdown"]})
    return out


def _on(config: dict[str, Any], name: str) -> float:
    """The rule's threshold, 0 when the run did not ask for it (no default here: a rule
    the user left out never fires)."""
    value = config.get(name)
    return float(value) if value else 0.0


def evaluate(config: dict[str, Any], result: Any, window: tuple[datetime | None, datetime],
             opens: Any = None, drift: list[str] | None = None) -> list[Alert]:
    """The alerts on bars in ``window = (after, until]`` of a recomputed result.

    ``opens``: the run's opens, an array aligned with ``result.close`` for one symbol, or
    for a universe a DataFrame (bar time x symbol, NaN where a symbol has no bar) read
    with ``result.close`` per symbol."""
    after, until = window
    index = result.equity.index
    lo = 0 if after is None else int(index.searchsorted(after, side="right"))
    hi = int(index.searchsorted(until, side="right"))
    out: list[Alert] = []
    if (thr := _on(config, "drawdown")) > 0:
        dd = result.drawdown.to_numpy()
        for i in range(lo, hi):
            if dd[i] <= -thr and (i == 0 or dd[i - 1] > -thr):
                out.append(Alert("drawdown", index[i].isoformat(), float(dd[i]), -thr,
                                 f"Drawdown {dd[i]:.1%} passed -{thr:.1%}"))
    if (n := int(_on(config, "loss_streak"))) > 0:
        t = result.trades[result.trades["exit_reason"].astype(str) != "open"]
        t = t.sort_values("exit_bar", kind="stable")
        streak = 0
        for exit_bar, pnl in zip(t["exit_bar"].to_numpy(), t["pnl"].to_numpy(), strict=True):
            streak = streak + 1 if pnl < 0 else 0
            if streak == n and lo <= int(exit_bar) < hi:
                out.append(Alert("loss_streak", index[int(exit_bar)].isoformat(), float(streak),
                                 float(n), f"{streak} losing trades in a row"))
    if (k := _on(config, "gap_sigma")) > 0:
        if isinstance(opens, pd.DataFrame):
            out.extend(_symbol_gaps(opens, result.close, window, k))
        elif opens is not None:
            out.extend(_gaps(index, np.asarray(opens), result.close.to_numpy(), lo, hi, k))
    if drift and _on(config, "drift"):
        out.append(Alert("drift", until.isoformat(), float(len(drift)), 0.0,
                         "Committed fills differ from a recompute of the same bars "
                         f"(candle history revised?): {'; '.join(drift[:3])}"))
    return out


def _symbol_gaps(opens: pd.DataFrame, close: pd.DataFrame,
                 window: tuple[datetime | None, datetime], k: float) -> list[Alert]:
    """The gaps of each symbol of a universe, each on the symbol's own bars (the rows
    where its close is not NaN), in the order of the columns."""
    after, until = window
    out: list[Alert] = []
    for sym in close.columns:
        c = close[sym].to_numpy()
        o = opens[sym].reindex(close.index).to_numpy()
        mask = ~np.isnan(c)
        idx = close.index[mask]
        lo = 0 if after is None else int(idx.searchsorted(after, side="right"))
        hi = int(idx.searchsorted(until, side="right"))
        out.extend(_gaps(idx, o[mask], c[mask], lo, hi, k, str(sym)))
    return out


def _gaps(index: Any, opens: np.ndarray, close: np.ndarray, lo: int, hi: int,
          k: float, symbol: str | None = None) -> list[Alert]:
    out = []
    who = f"{symbol}: " if symbol else ""
    logc = np.log(close)
    for i in range(max(lo, 21), hi):
        rets = np.diff(logc[max(0, i - 1 - GAP_WINDOW):i])
        sigma = float(np.std(rets))
        if not math.isfinite(sigma) or sigma <= 0:
            continue
        gap = math.log(opens[i] / close[i - 1])
        if abs(gap) > k * sigma:
            out.append(Alert("gap", index[i].isoformat(), gap / sigma, k,
                             f"{who}Price gap of {gap / sigma:+.1f} sigma at the open", symbol))
    return out


def no_data(config: dict[str, Any], last_bar_ts: datetime | None, timeframe: str,
            as_of: datetime) -> list[Alert]:
    """A ``no_data`` alert when the newest bar is overdue by ``no_data`` timeframes."""
    from workbench.data.timeframes import to_seconds

    bars = _on(config, "no_data")
    if bars <= 0 or last_bar_ts is None:
        return []
    step = to_seconds(timeframe)
    overdue = (as_of - last_bar_ts).total_seconds() / step - 1.0  # the bar itself closes at +1
    if overdue < bars:
        return []
    return [Alert("no_data", last_bar_ts.isoformat(), overdue, bars,
                  f"No new {timeframe} bar for {overdue:.0f} bars after {last_bar_ts:%Y-%m-%d %H:%M}")]


def bar_time(bar_ts: str) -> str:
    """``2013-01-07T00:00:00+00:00`` -> ``2013-01-07 00:00 UTC`` (how alerts are dated)."""
    return f"{datetime.fromisoformat(bar_ts):%Y-%m-%d %H:%M} UTC"


def raise_alerts(store: Any, run: Any, alerts: list[Alert]) -> list[Alert]:
    """Send the alerts not sent before (per (run, bar, kind)); returns the ones sent now."""
    if not alerts:
        return []
    from workbench.governance.notifications import load_settings, notify

    try:  # the in-app row is the record of what was sent, so it is always written
        channels = list(dict.fromkeys(["in_app", *load_settings(run.owner_id, store).enabled()]))
    except Exception:  # noqa: BLE001 - a broken settings file must not stop alerts
        channels = ["in_app"]

    sent: list[Alert] = []
    with store.transaction():
        store.backend.lock(f"paper-alerts:{run.id}")
        seen = {str(n.payload.get("alert_key")) for n in store.notifications.list(run.owner_id)
                if n.type == TYPE and str(n.payload.get("run_id")) == str(run.id)}
        for alert in alerts:
            key = alert.key(run.id)
            if key in seen:
                continue
            title = f"{run.name or run.symbol}: {alert.message} (bar {bar_time(alert.bar_ts)})"
            notify(store, run.owner_id, TYPE, title, alert.message,
                   {"run_id": str(run.id), "alert_key": key, **alert.to_dict()},
                   channels=channels)
            seen.add(key)
            sent.append(alert)
    return sent
