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
(entry value), as vectorbt. ``status`` is a bit set of ``STATUS_*`` flags.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.engine import _checks
from workbench.engine.metrics import N_CURVE, curve_start_nb, curve_step_nb, curve_store_nb
from workbench.errors import UnknownNameError, ValidationError

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
    #: ``simulate(..., curves=False)``: the metrics' state of the whole equity curve
    #: (:data:`workbench.engine.metrics.CURVE_FIELDS`; read by
    #: :func:`workbench.engine.metrics.metrics_of`); ``equity``, ``position`` and ``cash``
    #: are then empty. None when the curves were made.
    curve: np.ndarray | None = None


# rows of the trade matrix returned by the kernel (row-major: trades[ROW, k])
T_ENTRY_IDX, T_EXIT_IDX, T_SIDE, T_SIZE, T_ENTRY_PRICE, T_EXIT_PRICE = 0, 1, 2, 3, 4, 5
T_FEES, T_PNL, T_RET, T_REASON = 6, 7, 8, 9
N_TRADE_FIELDS = 10


@njit(cache=True, nogil=True)
def decide_nb(side: int, le: bool, lx: bool, se: bool, sx: bool) -> tuple[bool, int, int]:
    """The orders of a bar's signals for a position on ``side`` (+1, -1, 0 = flat):
    ``(close it?, side to open (0 = none), exit reason)``; the module docstring's signal
    rules (conflicts ignored, an opposite entry reverses). Shared with the portfolio
    simulator."""
    if le and lx:
        le = False
        lx = False
    if se and sx:
        se = False
        sx = False
    if le and se:
        le = False
        se = False
    if side > 0:
        if se:
            return True, -1, EXIT_REVERSAL
        return lx, 0, EXIT_SIGNAL
    if side < 0:
        if le:
            return True, 1, EXIT_REVERSAL
        return sx, 0, EXIT_SIGNAL
    if le:
        return False, 1, EXIT_SIGNAL
    if se:
        return False, -1, EXIT_SIGNAL
    return False, 0, EXIT_SIGNAL


@njit(cache=True, nogil=True)
def stop_hit_nb(side: int, ref: float, peak: float, sl_f: float, tp_f: float, tsl_f: float,
                o: float, h: float, lo: float) -> tuple[float, int]:
    """The stop or target a bar ``(o, h, lo)`` hits for a position on ``side`` (+1/-1):
    ``(price, EXIT_*)``, or ``(NaN, 0)``. Levels from the entry reference ``ref`` and the
    best price ``peak`` (trailing); the protective stop (SL or trailing, the nearer one)
    before take-profit; a bar opening beyond a level fills at the open (a gap). Used by
    this simulator and the portfolio simulator alike."""
    hit = np.nan
    reason = 0
    if side > 0:
        stop = -np.inf
        if sl_f == sl_f:
            stop = ref * (1.0 - sl_f)
            reason = EXIT_STOP_LOSS
        if tsl_f == tsl_f and peak * (1.0 - tsl_f) > stop:
            stop = peak * (1.0 - tsl_f)
            reason = EXIT_TRAILING_STOP
        if stop > -np.inf:
            if o <= stop:
                hit = o
            elif lo <= stop:
                hit = stop
        if hit != hit and tp_f == tp_f:
            target = ref * (1.0 + tp_f)
            if o >= target:
                hit = o
                reason = EXIT_TAKE_PROFIT
            elif h >= target:
                hit = target
                reason = EXIT_TAKE_PROFIT
    else:
        stop = np.inf
        if sl_f == sl_f:
            stop = ref * (1.0 + sl_f)
            reason = EXIT_STOP_LOSS
        if tsl_f == tsl_f and peak * (1.0 + tsl_f) < stop:
            stop = peak * (1.0 + tsl_f)
            reason = EXIT_TRAILING_STOP
        if stop < np.inf:
            if o >= stop:
                hit = o
            elif h >= stop:
                hit = stop
        if hit != hit and tp_f == tp_f:
            target = ref * (1.0 - tp_f)
            if o <= target:
                hit = o
                reason = EXIT_TAKE_PROFIT
            elif lo <= target:
                hit = target
                reason = EXIT_TAKE_PROFIT
    if hit != hit:
        reason = 0
    return hit, reason


@njit(cache=True, nogil=True)
def stop_fill_price_nb(side: int, hit: float, reason: int, slippage: float) -> float:
    """The fill price of a stop exit at level ``hit``: take-profit exits are limit orders
    (no slippage), stop-loss and trailing exits stop-market orders (they slip)."""
    if reason == EXIT_TAKE_PROFIT:
        return hit
    return hit * (1.0 - slippage) if side > 0 else hit * (1.0 + slippage)


@njit(cache=True, nogil=True, inline="always")  # rare, but a call costs the hot loop
def _entry_units_nb(
    side: int, px: float, cash: float, fees: float, size_mode: int, size_value: float,
    stop_frac: float,
) -> tuple[float, int]:
    """Units to buy/sell short at fill price ``px`` with ``cash`` (flat), and status bits."""
    status = 0
    if cash <= 0.0 or not px > 0.0:
        return 0.0, STATUS_NO_CASH
    affordable = cash / (px * (1.0 + fees))
    if size_mode == SIZE_PERCENT_EQUITY:
        units = cash * size_value / (px * (1.0 + fees))
    elif size_mode == SIZE_FIXED_CASH:
        units = size_value / px
    elif size_mode == SIZE_FIXED_UNITS:
        units = size_value
    else:
        if not stop_frac > 0.0:
            return 0.0, STATUS_NO_STOP_FOR_RISK
        units = cash * size_value / (px * stop_frac)
    if units > affordable:
        if size_mode != SIZE_PERCENT_EQUITY:
            status |= STATUS_SIZE_CAPPED
        units = affordable
    return units, status


@njit(cache=True, nogil=True, inline="always")  # rare, but a call costs the hot loop
def _close_at_nb(
    trades: np.ndarray, k: int, side: int, pos: float, entry_i: int, entry_px: float,
    entry_fee: float, i: int, px: float, exit_fee: float, reason: int, cash: float,
) -> tuple[float, int]:
    """Close the whole position at fill price ``px`` on bar ``i`` paying ``exit_fee``
    (``abs(pos) * px * fees``), log the trade as row ``k``; returns ``(cash, k)`` after it."""
    units = abs(pos)
    cash += side * units * px - exit_fee
    entry_val = units * entry_px
    pnl = side * (units * px - entry_val) - entry_fee - exit_fee
    trades[T_ENTRY_IDX, k] = entry_i
    trades[T_EXIT_IDX, k] = i
    trades[T_SIDE, k] = side
    trades[T_SIZE, k] = units
    trades[T_ENTRY_PRICE, k] = entry_px
    trades[T_EXIT_PRICE, k] = px
    trades[T_FEES, k] = entry_fee + exit_fee
    trades[T_PNL, k] = pnl
    trades[T_RET, k] = pnl / entry_val if entry_val != 0.0 else np.nan
    trades[T_REASON, k] = reason
    return cash, k + 1


@njit(cache=True, nogil=True, inline="always")  # rare, but a call costs the hot loop
def _fill_nb(
    trades: np.ndarray, k: int, status: int, i: int, raw: float,
    do_close: bool, new_side: int, reason: int,
    cash: float, pos: float, side: int, entry_i: int, entry_px: float, entry_fee: float,
    ref: float, peak: float, sl_f: float, tp_f: float, tsl_f: float,
    sl_sig: float, tp_sig: float, tsl_sig: float, fees: float, slippage: float,
    size_mode: int, size_value: float,
) -> tuple[float, float, int, int, float, float, float, float, float, float, float, int, int]:
    """Fill the orders decided on a signal bar at raw price ``raw`` on bar ``i``: close the
    position (``do_close``), then open ``new_side`` (0 = none) with the stop fractions
    read at the signal bar (``sl_sig``, ``tp_sig``, ``tsl_sig``; NaN = off).

    The one place orders fill, whether at the signal bar's close or at the next open;
    returns the updated position state ``(cash, pos, side, entry_i, entry_px, entry_fee,
    ref, peak, sl_f, tp_f, tsl_f, k, status)``. Stops come in as numbers, not arrays:
    every array handed to a helper costs two atomic reference-count updates per call,
    which was a third of the time of each fill.
    """
    if do_close and side != 0:
        px = raw * (1.0 - slippage) if side > 0 else raw * (1.0 + slippage)
        cash, k = _close_at_nb(trades, k, side, pos, entry_i, entry_px, entry_fee, i, px,
                               abs(pos) * px * fees, reason, cash)
        pos = 0.0
        side = 0
    if new_side != 0:
        px = raw * (1.0 + slippage) if new_side > 0 else raw * (1.0 - slippage)
        stop_for_risk = sl_sig
        if not stop_for_risk > 0.0:
            stop_for_risk = tsl_sig
        units, st = _entry_units_nb(new_side, px, cash, fees, size_mode, size_value,
                                    stop_for_risk)
        status |= st
        if units > 0.0:
            fee = units * px * fees
            cash -= new_side * units * px + fee
            pos = new_side * units
            side = new_side
            entry_i = i
            entry_px = px
            entry_fee = fee
            ref = raw
            peak = raw
            sl_f = sl_sig
            tp_f = tp_sig
            tsl_f = tsl_sig
    return (cash, pos, side, entry_i, entry_px, entry_fee, ref, peak, sl_f, tp_f, tsl_f,
            k, status)


@njit(cache=True, nogil=True)
def simulate_nb(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    long_entries: np.ndarray, long_exits: np.ndarray,
    short_entries: np.ndarray, short_exits: np.ndarray,
    sl: np.ndarray, sl_mult: float, tp: np.ndarray, tp_mult: float,
    tsl: np.ndarray, tsl_mult: float,
    init_cash: float, fees: float, slippage: float,
    fill_timing: int, size_mode: int, size_value: float,
    equity: np.ndarray | None, position: np.ndarray | None, cash_out: np.ndarray | None,
    curve: np.ndarray | None = None,
) -> tuple[np.ndarray, int, int]:
    """The simulator kernel; semantics in the module docstring.

    Signals are bool arrays of n bars (short ones may have length 1 = never used when
    False). Stop fraction at bar i = ``sl[i] * sl_mult`` (a one-element array is a
    constant: ``sl[0]``; NaN = off). Fills the per-bar output arrays ``equity``, ``position``
    and ``cash_out`` (length n, allocated by the caller: numpy's allocator gives huge
    pages, ~10x cheaper to first touch than an allocation inside the kernel) and
    returns ``(trades, n_trades, status)`` with ``trades`` of shape
    (N_TRADE_FIELDS, capacity), valid up to n_trades.

    Each output array may be None (not written), and ``curve`` (N_CURVE float64 slots)
    receives the metrics' running state of the equity curve
    (:func:`workbench.engine.metrics.curve_step_nb`, fed the same values the arrays
    would hold): metrics without the 3 x 8 bytes per bar written and read back. numba
    compiles each None/array combination apart, so the branches cost nothing.
    """
    n = close.shape[0]
    has_short = short_entries.shape[0] == n
    has_short_exits = short_exits.shape[0] == n
    cap = 1
    for i in range(n):
        if long_entries[i]:
            cap += 1
        if has_short and short_entries[i]:
            cap += 1
    trades = np.empty((N_TRADE_FIELDS, cap))
    k = 0
    status = 0

    cash = init_cash
    pos = 0.0  # signed units
    side = 0
    entry_i = -1
    entry_px = 0.0
    entry_fee = 0.0
    ref = 0.0  # stop reference price (raw fill price)
    sl_f = np.nan
    tp_f = np.nan
    tsl_f = np.nan
    peak = 0.0  # best price since entry, up to the previous bar (trailing stop)
    p_close = False  # pending order for next_open: close the position?
    p_side = 0  # ... then open this side (0 = nothing)
    p_reason = 0
    p_sig = -1  # the signal bar of the pending order
    cs = curve_start_nb(init_cash)

    for i in range(n):
        stopped = False
        # 1) next_open: fill what the previous close decided, at this open
        if fill_timing == FILL_NEXT_OPEN and (p_close or p_side != 0):
            (cash, pos, side, entry_i, entry_px, entry_fee, ref, peak, sl_f, tp_f, tsl_f,
             k, status) = _fill_nb(
                trades, k, status, i, open_[i], p_close, p_side, p_reason,
                cash, pos, side, entry_i, entry_px, entry_fee, ref, peak, sl_f, tp_f, tsl_f,
                (sl[0] if sl.shape[0] == 1 else sl[p_sig]) * sl_mult,
                (tp[0] if tp.shape[0] == 1 else tp[p_sig]) * tp_mult,
                (tsl[0] if tsl.shape[0] == 1 else tsl[p_sig]) * tsl_mult,
                fees, slippage, size_mode, size_value)
            p_close = False
            p_side = 0

        # 2) stops, intrabar on high/low (protective stop first, then take-profit)
        if side != 0 and (sl_f == sl_f or tp_f == tp_f or tsl_f == tsl_f):
            hit, reason = stop_hit_nb(side, ref, peak, sl_f, tp_f, tsl_f, open_[i], high[i], low[i])
            if hit == hit:
                px = stop_fill_price_nb(side, hit, reason, slippage)
                cash, k = _close_at_nb(trades, k, side, pos, entry_i, entry_px, entry_fee,
                                       i, px, abs(pos) * px * fees, reason, cash)
                pos = 0.0
                side = 0
                stopped = True
            elif tsl_f == tsl_f:
                if side > 0 and high[i] > peak:
                    peak = high[i]
                elif side < 0 and low[i] < peak:
                    peak = low[i]

        # 3) signals at the close (a bar without any signal changes nothing, so the
        #    rules run only where one is set: most bars of a long series have none)
        if not stopped:
            le = long_entries[i]
            lx = long_exits[i]
            se = short_entries[i] if has_short else False
            sx = short_exits[i] if has_short_exits else False
            if le or lx or se or sx:
                do_close, new_side, reason = decide_nb(side, le, lx, se, sx)
                if fill_timing == FILL_NEXT_OPEN:
                    if i < n - 1:
                        p_close = do_close
                        p_side = new_side
                        p_reason = reason
                        p_sig = i
                elif do_close or new_side != 0:
                    (cash, pos, side, entry_i, entry_px, entry_fee, ref, peak, sl_f, tp_f,
                     tsl_f, k, status) = _fill_nb(
                        trades, k, status, i, close[i], do_close, new_side, reason,
                        cash, pos, side, entry_i, entry_px, entry_fee, ref, peak, sl_f,
                        tp_f, tsl_f, (sl[0] if sl.shape[0] == 1 else sl[i]) * sl_mult,
                        (tp[0] if tp.shape[0] == 1 else tp[i]) * tp_mult,
                        (tsl[0] if tsl.shape[0] == 1 else tsl[i]) * tsl_mult,
                        fees, slippage, size_mode, size_value)

        e = cash + pos * close[i]
        if equity is not None:
            equity[i] = e
        if position is not None:
            position[i] = pos
        if cash_out is not None:
            cash_out[i] = cash
        if curve is not None:
            cs = curve_step_nb(cs, i, e, pos)

    if curve is not None:
        curve_store_nb(cs, n, curve)
    if side != 0:  # still open: mark at the last close, no exit fee
        cash, k = _close_at_nb(trades, k, side, pos, entry_i, entry_px, entry_fee, n - 1,
                               close[n - 1], 0.0, EXIT_OPEN, cash)
    return trades, k, status


def _stop_array(value: np.ndarray | float | None, name: str, n: int) -> np.ndarray:
    if value is None:
        return np.full(1, np.nan)
    if np.ndim(value) == 0:
        v = float(value)  # type: ignore[arg-type]
        if v == v and not 0.0 < v:
            raise ValidationError(
                f"{name}: a stop is a positive fraction of the entry price (0.02 = 2%), "
                f"got {v}", details={"param": name, "value": v})
        return np.full(1, v)
    arr = _checks.as_f64(value, name)
    if arr.shape[0] != n:
        raise ValidationError(f"{name}: expected {n} values (one per bar), got {arr.shape[0]}",
                              details={"param": name, "expected": n, "got": arr.shape[0]})
    if np.any(arr <= 0.0):
        raise ValidationError(f"{name}: stop fractions must be > 0 (NaN = off)",
                              details={"param": name})
    return arr


def _code(table: dict[str, int], value: str | int, kind: str) -> int:
    if isinstance(value, int | np.integer) and int(value) in table.values():
        return int(value)
    if isinstance(value, str) and value in table:
        return table[value]
    raise UnknownNameError.build(kind, str(value), list(table))


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
    curves: bool = True,
) -> SimResult:
    """Run one backtest over OHLC arrays and boolean signal arrays (see module doc).

    ``sl``/``tp``/``tsl`` may be a per-bar float array of fractions (NaN = off), a
    scalar fraction for every bar, or None (off). ``curves=False`` skips the per-bar
    ``equity``, ``position`` and ``cash`` arrays (they come back empty) and keeps what
    the metrics need of them in ``curve`` instead
    (:func:`workbench.engine.metrics.metrics_of`): the same trades and the same metric
    bits for ~40% of the time on long series; run again with ``curves=True`` when the
    curves are wanted. Raises ValidationError on bad input.
    """
    o = _checks.as_f64(open, "open")
    h = _checks.as_f64(high, "high")
    lo = _checks.as_f64(low, "low")
    c = _checks.as_f64(close, "close")
    n = _checks.same_length(open=o, high=h, low=lo, close=c)
    le = _checks.as_bool(long_entries, "long_entries", n)
    lx = _checks.as_bool(long_exits, "long_exits", n)
    # no short signals: one-element arrays, which the kernel reads as "never"
    se = _checks.as_bool(short_entries, "short_entries", n) if short_entries is not None \
        else np.zeros(1, dtype=np.bool_)
    sx = _checks.as_bool(short_exits, "short_exits", n) if short_exits is not None \
        else np.zeros(1, dtype=np.bool_)
    ft = _code(FILL_TIMINGS, fill_timing, "fill_timing")
    sm = _code(SIZE_MODES, size_mode, "size_mode")
    cash0 = _checks.fraction(init_cash, "init_cash", low=1e-9)
    fee = _checks.fraction(fees, "fees", high=0.5)
    slip = _checks.fraction(slippage, "slippage", high=0.5)
    sv = _checks.fraction(size_value, "size_value", low=0.0)
    if sv <= 0.0 or (sm == SIZE_PERCENT_EQUITY and sv > 1.0):
        raise ValidationError(
            f"size_value: {sv} is out of range for {size_mode!r} "
            "(percent_equity takes a fraction in (0, 1], 1.0 = all-in; others > 0)",
            details={"param": "size_value", "value": sv, "size_mode": str(size_mode)})
    sl_a = _stop_array(sl, "sl", n)
    tp_a = _stop_array(tp, "tp", n)
    tsl_a = _stop_array(tsl, "tsl", n)
    if sm == SIZE_RISK_PERCENT and np.all(np.isnan(sl_a)) and np.all(np.isnan(tsl_a)):
        raise ValidationError(
            "size_mode 'risk_percent' sizes from the stop distance: give sl (or tsl)",
            details={"param": "sl", "size_mode": "risk_percent"})
    if n == 0:
        raise ValidationError("no bars to simulate: the candle range is empty",
                              details={"bars": 0})
    if curves:
        eq, pos, cash = np.empty(n), np.empty(n), np.empty(n)
        curve = None
        tr, k, status = simulate_nb(
            o, h, lo, c, le, lx, se, sx, sl_a, 1.0, tp_a, 1.0, tsl_a, 1.0,
            cash0, fee, slip, ft, sm, sv, eq, pos, cash)
    else:
        eq, pos, cash = np.empty(0), np.empty(0), np.empty(0)
        curve = np.empty(N_CURVE)
        tr, k, status = simulate_nb(
            o, h, lo, c, le, lx, se, sx, sl_a, 1.0, tp_a, 1.0, tsl_a, 1.0,
            cash0, fee, slip, ft, sm, sv, None, None, None, curve)
    t = tr[:, :k]
    return SimResult(
        equity=eq, position=pos, cash=cash,
        entry_idx=t[T_ENTRY_IDX].astype(np.int64), exit_idx=t[T_EXIT_IDX].astype(np.int64),
        side=t[T_SIDE].astype(np.int8), size=t[T_SIZE].copy(),
        entry_price=t[T_ENTRY_PRICE].copy(), exit_price=t[T_EXIT_PRICE].copy(),
        fees=t[T_FEES].copy(), pnl=t[T_PNL].copy(), ret=t[T_RET].copy(),
        exit_reason=t[T_REASON].astype(np.int8), status=int(status), curve=curve)
