"""The order/position simulator: one numba kernel for long and short trading.

Semantics (exact; vectorbt's ``Portfolio.from_signals`` where it has a rule):

Bars and fills
    Signals are evaluated on the bar's close. ``fill_timing``:

    - ``"close"`` (code 0): orders fill at the signal bar's close — vectorbt's default,
      used for the parity tests. It assumes you can act on a bar's close at that close.
    - ``"next_open"`` (code 1): orders fill at the NEXT bar's open. This is the default
      of the strategy settings and of paper trading because it is what a live bot can do:
      it sees the close, then trades at the next available price. A signal on the last
      bar never fills.

Prices and costs
    Buys fill at ``price*(1+slippage)``, sells at ``price*(1-slippage)``; the fee is
    ``fees * units * fill_price`` on each side. Take-profit exits are limit orders and
    get no slippage; stop-loss and trailing-stop exits are stop-market orders and do.

Signal rules (per bar, after stops; vectorbt's "ignore" conflict modes, no pyramiding)
    long entry + long exit on the same bar -> both ignored; same for short;
    long entry + short entry on the same bar -> both ignored;
    flat: long entry opens long, else short entry opens short (exits ignored);
    long: short entry REVERSES (close the long, open a short, one bar), else long exit
    closes, a repeated long entry is ignored; short: mirror image.
    On a bar where a stop closed the position, that bar's signals are ignored.

Sizing (``size_mode`` / ``size_value``), decided at fill time from cash after any close
    ``"percent_equity"`` (0): units = cash*value / (fill_price*(1+fees)); value in (0, 1],
    1.0 = all-in (vectorbt ``size=np.inf``), fractional units.
    ``"fixed_cash"`` (1): units = value / fill_price (fees on top).
    ``"fixed_units"`` (2): units = value.
    ``"risk_percent"`` (3): units = equity*value / (fill_price*stop) where ``stop`` is the
    stop-loss fraction read at the signal bar (the trailing-stop fraction if no SL);
    no stop -> the entry is skipped (status flag).
    Every entry is capped at what the cash affords, fees included (no leverage, shorts
    included); a capped order sets a status flag.

Stops (per-bar float arrays of fractions, NaN = off; read at the SIGNAL bar)
    Levels are measured from the entry reference price (the raw fill price: the signal
    bar's close, or the fill bar's open), as vectorbt's ``stop_entry_price="close"``.
    ATR stops are passed as ``atr*mult/close``. Long: SL at ref*(1-sl), TP at
    ref*(1+tp), trailing at peak*(1-tsl) where peak is the highest high since entry
    up to the PREVIOUS bar (updated after the check, as vectorbt). Short: mirrored.
    Checked intrabar on high/low: with ``close`` fills from the bar after the entry bar;
    with ``next_open`` already on the fill bar (its whole range comes after its open).
    Conservative order: the protective stop (SL or trailing, the nearer one) is assumed
    to trigger before take-profit when both lie inside one bar's range. A bar that opens
    beyond the stop (a gap) fills at the open, as vectorbt does.

Outputs (:class:`SimResult`): per bar equity (cash + position*close, marked at the
close), position (signed units at the close) and cash; and the trade log, one row per
round trip, arrays ``entry_idx, exit_idx, side (+1/-1), size (units), entry_price,
exit_price (fill prices incl. slippage), fees (both sides), pnl, ret, exit_reason``.
A trade still open at the end is included with ``exit_reason = EXIT_OPEN``, exit at the
last close and no exit fee (vectorbt counts it as a trade too). ``ret`` = pnl /
(entry value + entry fee). ``status`` is a bit set of ``STATUS_*`` flags.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

FILL_CLOSE = 0
FILL_NEXT_OPEN = 1
FILL_TIMINGS = {"close": FILL_CLOSE, "next_open": FILL_NEXT_OPEN}

SIZE_PERCENT_EQUITY = 0
SIZE_FIXED_CASH = 1
SIZE_FIXED_UNITS = 2
SIZE_RISK_PERCENT = 3
SIZE_MODES = {
    "percent_equity": SIZE_PERCENT_EQUITY,
    "fixed_cash": SIZE_FIXED_CASH,
    "fixed_units": SIZE_FIXED_UNITS,
    "risk_percent": SIZE_RISK_PERCENT,
}

EXIT_SIGNAL = 1
EXIT_STOP_LOSS = 2
EXIT_TAKE_PROFIT = 3
EXIT_TRAILING_STOP = 4
EXIT_REVERSAL = 5
EXIT_OPEN = 6
EXIT_REASONS = {
    EXIT_SIGNAL: "signal",
    EXIT_STOP_LOSS: "stop_loss",
    EXIT_TAKE_PROFIT: "take_profit",
    EXIT_TRAILING_STOP: "trailing_stop",
    EXIT_REVERSAL: "reversal",
    EXIT_OPEN: "open",
}

STATUS_OK = 0
STATUS_SIZE_CAPPED = 1  # an entry was reduced to what the cash affords
STATUS_NO_STOP_FOR_RISK = 2  # risk sizing without a stop: entry skipped
STATUS_NO_CASH = 4  # an entry could not buy anything (cash <= 0)


class SimResult(NamedTuple):
    """Arrays out of :func:`simulate` (per bar: length n; trades: length n_trades)."""

    equity: np.ndarray
    position: np.ndarray
    cash: np.ndarray
    entry_idx: np.ndarray
    exit_idx: np.ndarray
    side: np.ndarray
    size: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    fees: np.ndarray
    pnl: np.ndarray
    ret: np.ndarray
    exit_reason: np.ndarray
    status: int


def simulate_nb(*args):  # type: ignore[no-untyped-def]
    """Kernel; signature documented on :func:`simulate` (filled in next commit)."""
    raise NotImplementedError


def simulate(
    open: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    long_entries: np.ndarray,
    long_exits: np.ndarray,
    short_entries: np.ndarray | None = None,
    short_exits: np.ndarray | None = None,
    *,
    init_cash: float = 10_000.0,
    fees: float = 0.0,
    slippage: float = 0.0,
    fill_timing: str = "next_open",
    size_mode: str = "percent_equity",
    size_value: float = 1.0,
    sl: np.ndarray | float | None = None,
    tp: np.ndarray | float | None = None,
    tsl: np.ndarray | float | None = None,
) -> SimResult:
    """Run one backtest over OHLC arrays and boolean signal arrays (see module doc).

    ``sl``/``tp``/``tsl`` may be a per-bar float array of fractions (NaN = off), a
    scalar fraction for every bar, or None (off).
    """
    raise NotImplementedError
