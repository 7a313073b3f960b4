"""The portfolio simulator: one strategy over many symbols on ONE shared cash account.

Arrays are aligned on one timeline: shape ``(n_bars, n_symbols)``, row = a timestamp
of the union of every symbol's bars, column = a symbol. A NaN close marks "this symbol
has no bar at this time": it neither trades, nor checks stops, nor is ranked there; its
holding is valued at its last known close. Fills, fees, slippage, stops and the exit
rules of one column are those of :mod:`workbench.engine.simulator` (read its docstring):
long and short, the same signal rules (conflicting signals ignored, an opposite entry
reverses the position), the same stop levels (:func:`~workbench.engine.simulator.stop_hit_nb`).

Shorts and the shared cash (vectorbt's ``lock_cash=True``)
    A short sale adds its proceeds (less the fee) to the cash but locks its value plus
    the fee out of the FREE cash: ``free = cash - 2 * debt`` where ``debt`` is the value
    the open shorts were sold at; a cover pays its cost from the cash and releases twice
    the debt it repays into the free cash. Every entry, long or short, is capped by what
    the free cash affords, fees included (no leverage), which equals vectorbt's
    ``Portfolio.from_signals(..., short_entries=..., short_exits=..., lock_cash=True,
    group_by=True, cash_sharing=True)``. Equity = cash + the signed holdings at their last
    price. A reversal is an exit (with the exits of its row) followed by an entry (with
    the entries of its row).

Order of events in one row (the call sequence)
    ``fill_timing="close"``: (1) stops of every open position, intrabar, in column
    order; (2) signal exits at the close (long exits,
    short covers, the closing half of reversals); (3) on a rebalance row, the reductions
    that bring overweight positions down to their target (sell part of a long, cover part
    of a short); (4) entries at the close, best ranked first, while slots and free cash
    last; (5) on a rebalance row, the additions that bring underweight positions up to
    their target (buy more of a long, sell more short; capped by the free cash left).
    Exits always come before entries, so cash freed on a row can fund that row's
    entries. This equals vectorbt's ``Portfolio.from_signals(..., group_by=True, cash_sharing=True, call_seq="auto")``
    whenever the entries of a row have equal approximate order values (``size=np.inf``
    or one ``size_type="value"`` amount), because vectorbt's "auto" sorts each row's
    orders by approximate value with a stable sort: sells first, ties in column order.
    vectorbt's DEFAULT call sequence is plain column order (a column's entry may come
    before another column's exit on the same row and miss that cash); we do not follow
    it, and the tests compare with ``call_seq="auto"``. With shorts, "auto" no longer
    matches (a short sale counts as a sell, a cover as a buy); our order equals vectorbt
    given the explicit ``call_seq`` "columns with an exit signal first, then those with an
    entry signal, each in column order" (what the short parity tests pass it).

    ``fill_timing="next_open"``: orders decided at a symbol's close fill at that
    symbol's NEXT bar's open (which may be several rows later when it has gaps): at the
    open of a row, (1) pending exits, (2) rebalance reductions, (3) pending entries ranked
    by the rank value of their signal bar, (4) rebalance additions; then the stops of
    every open position intrabar (the fill bar included), then signals at the close
    become pending.

Portfolio rules
    ``max_positions`` (0 = no limit): entries beyond the free slots are dropped, the
    highest ``rank`` (a per-symbol series from the graph, read at the signal bar; NaN
    ranks last) first; ties and "no ranking" keep column order. A short entry ranks by
    minus its rank (the lowest ranked symbols are the preferred shorts).
    ``alloc_mode`` decides each entry's size from the portfolio ``equity`` (cash +
    holdings at the current prices, after the row's exits):

    - ``ALLOC_SIZING`` (0): the strategy's own sizing rule per entry
      (``size_mode``/``size_value`` as in the single simulator, with the fraction taken
      of portfolio equity; ``percent_equity`` 1.0 = all the cash that is left, like
      vectorbt's ``size=np.inf``).
    - ``ALLOC_EQUAL`` (1): ``equity / max_positions`` per entry (``equity / n_symbols``
      without a limit).
    - ``ALLOC_FIXED_FRACTION`` (2): ``equity * alloc_value`` per entry.
    - ``ALLOC_RISK`` (3): units = ``equity * alloc_value / (price * stop)`` where stop is
      the stop-loss fraction at the signal bar (the trailing fraction without one); an
      entry without a stop is skipped (status flag).

    Every entry is capped at what the free cash affords, fees included (no leverage). A buy
    that spends the cash up to a rounding residue (relative 1e-9, absolute 1e-12) leaves
    exactly 0, as vectorbt's ``add_nb`` does, so no dust entry follows on other symbols.
    ``rebalance_every`` = k > 0 (with equal or fixed-fraction allocation): every k-th row
    (rows k, 2k, ...), each open position that has a bar there, long or short, is traded
    back to its target: ``target`` is the allocation's value per position (``equity /
    max_positions`` or ``equity / n_symbols`` for equal, ``equity * alloc_value`` for
    fixed fraction), a short's target the same value on the short side, and the target
    units are ``target / raw price`` (the row's close, or its open with ``next_open``;
    slippage moves the fill price, not the target). The exact order on such a row:

    a. the row's exits (stops, signal exits; ``next_open``: the pending exits, its
       stops come after d, intrabar);
    b. the reductions: ``target`` from the equity at that moment (cash + the signed
       holdings at the row's prices); then, in column order, every position holding more
       than its target units (by more than 1e-9 of them) is cut to them: a long sells the
       excess at ``raw * (1 - slippage)``, a short covers it at ``raw * (1 + slippage)``,
       repaying its debt pro rata (units covered / units short), so the free cash gains
       twice the debt repaid less the cover's cost and fee;
    c. the row's entries (sized from the equity after b);
    d. the additions: ``target`` again from the equity after c (it differs from b's by
       the fees and slippage paid since); then, in column order, every position holding
       fewer than its target units (the entries of this row included) adds the
       difference, capped by the free cash (``free / (price * (1 + fees))`` units): a long
       buys at ``raw * (1 + slippage)`` (cash and free cash pay value + fee), a short sells
       more at ``raw * (1 - slippage)`` (the cash gains value - fee, its debt grows by the
       value, the free cash loses value + fee). A cap of an addition sets no status flag.

    The position's trade stays one round trip: its ``entry_price`` is the average opening
    price (buys of a long, short sales of a short), ``size`` the largest units held, and
    its P&L counts every partial sale and cover (``side * (reduction values + final exit
    value - opening values) - every fee``).

Fill log
    Every order the kernel executes, in execution order (the call sequence above), is
    one fill: ``fill_row``, ``fill_symbol`` (column), ``fill_side`` (+1 buy, -1 sell: a
    short sale is a sell, a cover a buy), ``fill_units`` (> 0), ``fill_price`` (slippage
    included), ``fill_fees`` (``units * price * fees``, what the cash paid) and
    ``fill_reason`` (:data:`FILL_ENTRY`, the exit reason code of the simulator, or
    :data:`FILL_REBALANCE`). A position still open at the end has no exit fill. Replaying
    the log gives the kernel's cash and holdings; paper runs over a universe write it as
    their ledger.

Outputs
    ``equity``, ``cash`` and ``n_open`` per row; optionally (arrays of shape
    ``(n_bars, n_symbols)``, else ``(1, 1)`` = not recorded) ``position`` (units at the
    close, float32: ~7 significant digits, for tables and plots; the exact float64 units
    are ``units`` at the end and the fill log's running sum) and ``contrib`` (float64: the
    symbol's running P&L, its cash flows so far plus its holding at the last close;
    ``init_cash + contrib.sum(axis=1) == equity``). Per
    symbol: ``bars_held`` (rows with a position at the close, among the rows where the
    symbol has a bar), ``bars_present`` and ``units`` (signed units at the end). The trade
    log is the simulator's plus the column (``T_SYMBOL``); the fill log is above.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.engine.simulator import (
    EXIT_OPEN,
    FILL_NEXT_OPEN,
    N_TRADE_FIELDS,
    SIZE_FIXED_CASH,
    SIZE_FIXED_UNITS,
    SIZE_PERCENT_EQUITY,
    STATUS_NO_CASH,
    STATUS_NO_STOP_FOR_RISK,
    STATUS_SIZE_CAPPED,
    T_ENTRY_IDX,
    T_ENTRY_PRICE,
    T_EXIT_IDX,
    T_EXIT_PRICE,
    T_FEES,
    T_PNL,
    T_REASON,
    T_RET,
    T_SIDE,
    T_SIZE,
    decide_nb,
    stop_fill_price_nb,
    stop_hit_nb,
)
from workbench.errors import ValidationError

ALLOC_SIZING = 0
ALLOC_EQUAL = 1
ALLOC_FIXED_FRACTION = 2
ALLOC_RISK = 3
ALLOCATIONS = {"sizing": ALLOC_SIZING, "equal": ALLOC_EQUAL,
               "fixed_fraction": ALLOC_FIXED_FRACTION, "risk": ALLOC_RISK}

STATUS_NO_SLOT = 8  # an entry was dropped: every slot (max_positions) was taken

T_SYMBOL = N_TRADE_FIELDS  # the column of the trade
N_PORTFOLIO_TRADE_FIELDS = N_TRADE_FIELDS + 1

# the fill log (fills[FIELD, k]): every order the kernel executes, in execution order
F_ROW, F_SYMBOL, F_SIDE, F_UNITS, F_PRICE, F_FEES, F_REASON = 0, 1, 2, 3, 4, 5, 6
N_FILL_FIELDS = 7
FILL_ENTRY = 0  # a fill's reason: an entry; exits carry the EXIT_* code of the simulator
FILL_REBALANCE = 7  # a rebalance trade (a partial buy or sell of an open position)

# per-symbol state rows (state[ROW, j])
S_UNITS, S_BUY_VALUE, S_BUY_UNITS, S_SELL_VALUE, S_FEES, S_FLOW = 0, 1, 2, 3, 4, 5
S_REF, S_PEAK, S_SL, S_TP, S_TSL, S_ENTRY_I, S_MAX_UNITS, S_LAST = 6, 7, 8, 9, 10, 11, 12, 13
S_DEBT = 14  # a short's sale value, repaid pro rata as it is covered (vectorbt's debt)
N_STATE = 15


class PortfolioSim(NamedTuple):
    """Arrays out of :func:`simulate_portfolio` (see the module docstring)."""

    equity: np.ndarray
    cash: np.ndarray
    n_open: np.ndarray
    position: np.ndarray
    contrib: np.ndarray
    bars_held: np.ndarray
    bars_present: np.ndarray
    symbol: np.ndarray
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
    units: np.ndarray  # each symbol's signed units at the end (float64, one per symbol)
    fill_row: np.ndarray  # the fill log, in execution order (empty when not logged)
    fill_symbol: np.ndarray
    fill_side: np.ndarray  # +1 buy, -1 sell
    fill_units: np.ndarray
    fill_price: np.ndarray
    fill_fees: np.ndarray
    fill_reason: np.ndarray  # FILL_ENTRY, an EXIT_* code, or FILL_REBALANCE


@njit(cache=True, nogil=True)
def _f2(a: np.ndarray, i: int, j: int) -> float:
    """a[i, j], or a[0, 0] for a (1, 1) array (one constant everywhere)."""
    return a[0, 0] if a.shape[0] == 1 else a[i, j]


@njit(cache=True, nogil=True)
def _add_nb(x: float, y: float) -> float:
    """``x + y``, exactly 0 when the two cancel up to rounding (relative 1e-9, absolute
    1e-12): vectorbt's ``add_nb``, so spending all the cash leaves no dust to trade."""
    if abs(x + y) <= max(1e-9 * max(abs(x), abs(y)), 1e-12):
        return 0.0
    return x + y


@njit(cache=True, nogil=True)
def _open_nb(st: np.ndarray, j: int, side: int, units: float, px: float, fees: float,
             cash: float, free: float) -> tuple[float, float]:
    """Add ``units`` on ``side`` to column ``j`` at fill price ``px``; returns
    ``(cash, free)``. A buy spends cash and free cash alike; a short sale takes its
    proceeds into cash and locks its value plus the fee out of the free cash
    (vectorbt's ``sell_nb`` with ``lock_cash=True``: free = cash - 2 * debt)."""
    value = units * px
    fee = value * fees
    if side > 0:
        cash = _add_nb(cash, -(value + fee))
        free = _add_nb(free, -(value + fee))
        st[S_UNITS, j] += units
        st[S_FLOW, j] -= value + fee
    else:
        cash += value - fee
        free = _add_nb(free, (value - fee) - 2.0 * value)
        st[S_DEBT, j] += value
        st[S_UNITS, j] -= units
        st[S_FLOW, j] += value - fee
    st[S_BUY_VALUE, j] += value
    st[S_BUY_UNITS, j] += units
    st[S_FEES, j] += fee
    if abs(st[S_UNITS, j]) > st[S_MAX_UNITS, j]:
        st[S_MAX_UNITS, j] = abs(st[S_UNITS, j])
    return cash, free


@njit(cache=True, nogil=True)
def _reduce_nb(st: np.ndarray, j: int, units: float, px: float, fees: float, cash: float,
               free: float) -> tuple[float, float]:
    """Take ``units`` off column ``j``'s position at fill price ``px`` (sell a long, cover
    a short); returns ``(cash, free)``. A cover releases the debt it repays twice into
    the free cash, minus its cost (vectorbt's ``buy_nb``)."""
    value = units * px
    fee = value * fees
    if st[S_UNITS, j] > 0.0:
        cash += value - fee
        free += value - fee
        st[S_UNITS, j] -= units
        st[S_FLOW, j] += value - fee
    else:
        repaid = units * st[S_DEBT, j] / -st[S_UNITS, j]
        st[S_DEBT, j] = _add_nb(st[S_DEBT, j], -repaid)
        cash = _add_nb(cash, -(value + fee))
        free = _add_nb(free + 2.0 * repaid, -(value + fee))
        st[S_UNITS, j] += units
        st[S_FLOW, j] -= value + fee
    st[S_SELL_VALUE, j] += value
    st[S_FEES, j] += fee
    return cash, free


@njit(cache=True, nogil=True)
def _log_nb(trades: np.ndarray, k: int, st: np.ndarray, j: int, i: int, px: float,
            exit_fee: float, reason: int) -> int:
    """Log column ``j``'s round trip closing at ``px`` on row ``i`` (before the state is
    reset): the single simulator's P&L, ``side * (exit value - entry value) - fees``."""
    units = abs(st[S_UNITS, j])
    side = 1.0 if st[S_UNITS, j] > 0.0 else -1.0
    open_value = st[S_BUY_VALUE, j]
    if st[S_SELL_VALUE, j] == 0.0 and st[S_BUY_UNITS, j] == units:  # one fill in, one out
        pnl = side * (units * px - open_value) - st[S_FEES, j] - exit_fee
    else:
        pnl = side * (st[S_SELL_VALUE, j] + units * px - open_value) - st[S_FEES, j] - exit_fee
    trades[T_ENTRY_IDX, k] = st[S_ENTRY_I, j]
    trades[T_EXIT_IDX, k] = i
    trades[T_SIDE, k] = side
    trades[T_SIZE, k] = st[S_MAX_UNITS, j]
    trades[T_ENTRY_PRICE, k] = open_value / st[S_BUY_UNITS, j]
    trades[T_EXIT_PRICE, k] = px
    trades[T_FEES, k] = st[S_FEES, j] + exit_fee
    trades[T_PNL, k] = pnl
    trades[T_RET, k] = pnl / open_value if open_value != 0.0 else np.nan
    trades[T_REASON, k] = reason
    trades[T_SYMBOL, k] = j
    return k + 1


@njit(cache=True, nogil=True)
def _fill_nb(fl: np.ndarray, nf: np.ndarray, i: int, j: int, side: float, units: float,
             px: float, fees: float, reason: int) -> None:
    """Append one executed order to the fill log ``fl`` (``side`` +1 buy, -1 sell; the fee
    is ``units * px * fees``, as the cash paid it) and count it in ``nf[0]``; a log of
    shape (1, 1) records nothing. A full log counts on without writing (the caller runs
    again with the capacity counted: the kernel is deterministic)."""
    if fl.shape[0] != N_FILL_FIELDS:
        return
    k = nf[0]
    nf[0] = k + 1
    if k >= fl.shape[1]:
        return
    fl[F_ROW, k] = i
    fl[F_SYMBOL, k] = j
    fl[F_SIDE, k] = side
    fl[F_UNITS, k] = units
    fl[F_PRICE, k] = px
    fl[F_FEES, k] = units * px * fees
    fl[F_REASON, k] = reason


@njit(cache=True, nogil=True)
def _close_nb(trades: np.ndarray, k: int, st: np.ndarray, j: int, i: int, px: float,
              fees: float, reason: int, cash: float, free: float, fl: np.ndarray,
              nf: np.ndarray) -> tuple[float, float, int]:
    """Close all of column ``j`` at fill price ``px`` on row ``i``; log the round trip
    and the fill."""
    units = abs(st[S_UNITS, j])
    k = _log_nb(trades, k, st, j, i, px, units * px * fees, reason)
    _fill_nb(fl, nf, i, j, 1.0 if st[S_UNITS, j] < 0.0 else -1.0, units, px, fees, reason)
    cash, free = _reduce_nb(st, j, units, px, fees, cash, free)
    for r in (S_UNITS, S_BUY_VALUE, S_BUY_UNITS, S_SELL_VALUE, S_FEES, S_MAX_UNITS, S_DEBT):
        st[r, j] = 0.0
    st[S_SL, j] = np.nan
    st[S_TP, j] = np.nan
    st[S_TSL, j] = np.nan
    return cash, free, k


@njit(cache=True, nogil=True)
def _exit_px(side: float, raw: float, slippage: float) -> float:
    """The fill price of closing a position on ``side`` at raw price ``raw``."""
    return raw * (1.0 - slippage) if side > 0.0 else raw * (1.0 + slippage)


@njit(cache=True, nogil=True)
def _equity_nb(st: np.ndarray, cash: float) -> float:
    eq = cash
    for j in range(st.shape[1]):
        if st[S_UNITS, j] != 0.0:
            eq += st[S_UNITS, j] * st[S_LAST, j]
    return eq


@njit(cache=True, nogil=True)
def _target_nb(alloc_mode: int, alloc_value: float, equity: float, max_positions: int,
               m: int) -> float:
    if alloc_mode == ALLOC_EQUAL:
        return equity / (max_positions if max_positions > 0 else m)
    return equity * alloc_value


@njit(cache=True, nogil=True)
def _rebalance_nb(st: np.ndarray, row_px: np.ndarray, present: np.ndarray, reduce: bool,
                  target: float, fees: float, slippage: float, cash: float, free: float,
                  i: int, fl: np.ndarray, nf: np.ndarray) -> tuple[float, float]:
    """Trade every open, present position (long or short) towards ``target`` value, in
    column order: ``reduce=True`` the overweight ones down (sell part of a long, cover
    part of a short: both free cash), else the underweight ones up (buy more of a long,
    sell more short: both take free cash, so each is capped by what is left). A
    difference within 1e-9 of the target units is left alone (no dust orders)."""
    for j in range(st.shape[1]):
        units = st[S_UNITS, j]
        if units == 0.0 or not present[j]:
            continue
        side = 1 if units > 0.0 else -1
        held = abs(units)
        raw = row_px[j]
        want = target / raw
        if reduce and held - want > 1e-9 * want:
            px = _exit_px(units, raw, slippage)
            _fill_nb(fl, nf, i, j, -float(side), held - want, px, fees, FILL_REBALANCE)
            cash, free = _reduce_nb(st, j, held - want, px, fees, cash, free)
        elif not reduce and want - held > 1e-9 * want:
            px = raw * (1.0 + slippage) if side > 0 else raw * (1.0 - slippage)
            extra = min(want - held, max(free, 0.0) / (px * (1.0 + fees)))
            if extra > 0.0:
                _fill_nb(fl, nf, i, j, float(side), extra, px, fees, FILL_REBALANCE)
                cash, free = _open_nb(st, j, side, extra, px, fees, cash, free)
    return cash, free


@njit(cache=True, nogil=True)
def _entries_nb(
    st: np.ndarray, cand: np.ndarray, n_cand: int, keys: np.ndarray, sig_row: np.ndarray,
    ent_side: np.ndarray, i: int, row_px: np.ndarray, cash: float, free: float, n_open: int,
    fees: float, slippage: float, size_mode: int, size_value: float, alloc_mode: int,
    alloc_value: float, max_positions: int, sl: np.ndarray, tp: np.ndarray, tsl: np.ndarray,
    status: int, fl: np.ndarray, nf: np.ndarray,
) -> tuple[float, float, int, int]:
    """Open the candidate columns ``cand[:n_cand]`` (ranked by ``keys``, highest first,
    stable) on their side ``ent_side[j]`` at the raw prices ``row_px``; every entry is
    capped by the free cash. Returns ``(cash, free, n_open, status)``."""
    m = st.shape[1]
    # stable insertion sort, descending key (NaN keys were mapped to -inf)
    for a in range(1, n_cand):
        c = cand[a]
        kv = keys[a]
        b = a - 1
        while b >= 0 and keys[b] < kv:
            cand[b + 1] = cand[b]
            keys[b + 1] = keys[b]
            b -= 1
        cand[b + 1] = c
        keys[b + 1] = kv
    equity = _equity_nb(st, cash)
    for a in range(n_cand):
        j = cand[a]
        side = ent_side[j]
        if max_positions > 0 and n_open >= max_positions:
            status |= STATUS_NO_SLOT
            continue
        s = sig_row[j]
        raw = row_px[j]
        px = raw * (1.0 + slippage) if side > 0 else raw * (1.0 - slippage)
        if free <= 0.0 or not px > 0.0:
            status |= STATUS_NO_CASH
            continue
        stop = _f2(sl, s, j)
        if not stop > 0.0:
            stop = _f2(tsl, s, j)
        affordable = free / (px * (1.0 + fees))
        if alloc_mode == ALLOC_SIZING:
            if size_mode == SIZE_PERCENT_EQUITY:
                units = equity * size_value / (px * (1.0 + fees))
            elif size_mode == SIZE_FIXED_CASH:
                units = size_value / px
            elif size_mode == SIZE_FIXED_UNITS:
                units = size_value
            else:
                if not stop > 0.0:
                    status |= STATUS_NO_STOP_FOR_RISK
                    continue
                units = equity * size_value / (px * stop)
        elif alloc_mode == ALLOC_RISK:
            if not stop > 0.0:
                status |= STATUS_NO_STOP_FOR_RISK
                continue
            units = equity * alloc_value / (px * stop)
        else:
            units = _target_nb(alloc_mode, alloc_value, equity, max_positions, m) / (px * (1.0 + fees))
        if units >= affordable:
            if units > affordable and not (alloc_mode == ALLOC_SIZING
                                           and size_mode == SIZE_PERCENT_EQUITY):
                status |= STATUS_SIZE_CAPPED
            units = affordable
        if not units > 0.0:
            status |= STATUS_NO_CASH
            continue
        _fill_nb(fl, nf, i, j, float(side), units, px, fees, FILL_ENTRY)
        cash, free = _open_nb(st, j, side, units, px, fees, cash, free)
        n_open += 1
        st[S_ENTRY_I, j] = i
        st[S_REF, j] = raw
        st[S_PEAK, j] = raw
        st[S_SL, j] = _f2(sl, s, j)
        st[S_TP, j] = _f2(tp, s, j)
        st[S_TSL, j] = _f2(tsl, s, j)
    return cash, free, n_open, status


@njit(cache=True, nogil=True)
def _decide(st: np.ndarray, j: int, i: int, le: np.ndarray, lx: np.ndarray, se: np.ndarray,
            sx: np.ndarray, has_short: bool) -> tuple[bool, int, int]:
    """Column ``j``'s orders from its signals at row ``i``'s close (:func:`decide_nb`)."""
    units = st[S_UNITS, j]
    side = 1 if units > 0.0 else (-1 if units < 0.0 else 0)
    return decide_nb(side, le[i, j], lx[i, j], has_short and se[i, j], has_short and sx[i, j])


@njit(cache=True, nogil=True)
def _key(rank: np.ndarray, has_rank: bool, i: int, j: int, side: int) -> float:
    """The ranking key of an entry: the rank for a long, minus the rank for a short
    (the lowest ranked symbols are the preferred shorts); NaN ranks last."""
    kv = (rank[i, j] if side > 0 else -rank[i, j]) if has_rank else 0.0
    return kv if kv == kv else -np.inf


@njit(cache=True, nogil=True)
def portfolio_nb(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    entries: np.ndarray, exits: np.ndarray, short_entries: np.ndarray, short_exits: np.ndarray,
    rank: np.ndarray, sl: np.ndarray, tp: np.ndarray, tsl: np.ndarray,
    init_cash: float, fees: float, slippage: float, fill_timing: int,
    size_mode: int, size_value: float, alloc_mode: int, alloc_value: float,
    max_positions: int, rebalance_every: int,
    equity: np.ndarray, cash_out: np.ndarray, n_open_out: np.ndarray,
    position: np.ndarray, contrib: np.ndarray,
    bars_held: np.ndarray, bars_present: np.ndarray, units_out: np.ndarray,
    fill_capacity: int, nf: np.ndarray,
) -> tuple[np.ndarray, int, int, np.ndarray]:
    """The portfolio kernel; semantics in the module docstring. Short signal grids of
    shape (1, 1) mean "no shorts". Returns ``(trades, n_trades, status, fills)``, trades
    of shape (N_PORTFOLIO_TRADE_FIELDS, cap), fills of shape (N_FILL_FIELDS,
    fill_capacity) (``fill_capacity`` < 0: (1, 1), not logged), their count in ``nf[0]``
    (more than the capacity: run again with that much); ``units_out`` gets each symbol's
    signed units at the end."""
    n, m = close.shape
    rec_pos = position.shape[0] == n
    rec_con = contrib.shape[0] == n
    has_rank = rank.shape[0] == n
    has_short = short_entries.shape[0] == n
    next_open = fill_timing == FILL_NEXT_OPEN
    rebalance = rebalance_every > 0 and (alloc_mode == ALLOC_EQUAL
                                         or alloc_mode == ALLOC_FIXED_FRACTION)
    cap = 1
    for i in range(n):
        for j in range(m):
            if entries[i, j]:
                cap += 1
            if has_short and short_entries[i, j]:
                cap += 1
    trades = np.empty((N_PORTFOLIO_TRADE_FIELDS, cap))
    k = 0
    fl = np.empty((N_FILL_FIELDS, fill_capacity)) if fill_capacity >= 0 else np.empty((1, 1))
    nf[0] = 0
    status = 0
    st = np.zeros((N_STATE, m))
    for j in range(m):
        st[S_SL, j] = np.nan
        st[S_TP, j] = np.nan
        st[S_TSL, j] = np.nan
        st[S_LAST, j] = np.nan
        bars_held[j] = 0
        bars_present[j] = 0
    pend_exit = np.zeros(m, dtype=np.bool_)
    pend_reason = np.zeros(m, dtype=np.int64)
    pend_entry = np.zeros(m, dtype=np.bool_)
    pend_side = np.zeros(m, dtype=np.int64)
    pend_sig = np.zeros(m, dtype=np.int64)
    pend_key = np.zeros(m)
    cand = np.empty(m, dtype=np.int64)
    keys = np.empty(m)
    sig_row = np.zeros(m, dtype=np.int64)
    ent_side = np.zeros(m, dtype=np.int64)
    present = np.zeros(m, dtype=np.bool_)
    row_px = np.empty(m)
    cash = init_cash
    free = init_cash  # cash not locked by short positions (= cash - 2 * their debt)
    n_open = 0

    for i in range(n):
        reb = rebalance and i > 0 and i % rebalance_every == 0
        for j in range(m):
            present[j] = close[i, j] == close[i, j]
        # 1) next_open: what earlier closes decided fills at this open
        if next_open:
            for j in range(m):
                if present[j]:
                    row_px[j] = open_[i, j]
                    st[S_LAST, j] = open_[i, j]
            for j in range(m):
                if present[j] and pend_exit[j]:
                    pend_exit[j] = False
                    if st[S_UNITS, j] != 0.0:
                        px = _exit_px(st[S_UNITS, j], row_px[j], slippage)
                        cash, free, k = _close_nb(trades, k, st, j, i, px, fees, pend_reason[j],
                                                          cash, free, fl, nf)
                        n_open -= 1
            if reb:
                cash, free = _rebalance_nb(
                    st, row_px, present, True, _target_nb(alloc_mode, alloc_value, _equity_nb(st, cash),
                                                         max_positions, m),
                    fees, slippage, cash, free, i, fl, nf)
            n_cand = 0
            for j in range(m):
                if present[j] and pend_entry[j]:
                    pend_entry[j] = False
                    if st[S_UNITS, j] == 0.0:
                        cand[n_cand] = j
                        keys[n_cand] = pend_key[j]
                        sig_row[j] = pend_sig[j]
                        ent_side[j] = pend_side[j]
                        n_cand += 1
            if n_cand > 0:
                cash, free, n_open, status = _entries_nb(
                    st, cand, n_cand, keys, sig_row, ent_side, i, row_px, cash, free, n_open, fees,
                    slippage, size_mode, size_value, alloc_mode, alloc_value, max_positions,
                    sl, tp, tsl, status, fl, nf)
            if reb:
                cash, free = _rebalance_nb(
                    st, row_px, present, False, _target_nb(alloc_mode, alloc_value, _equity_nb(st, cash),
                                                         max_positions, m),
                    fees, slippage, cash, free, i, fl, nf)
        # 2) stops, intrabar (next_open: the fill bar too; close: from the bar after entry)
        for j in range(m):
            units = st[S_UNITS, j]
            if not present[j] or units == 0.0:
                continue
            if not next_open and st[S_ENTRY_I, j] == i:
                continue
            if st[S_SL, j] == st[S_SL, j] or st[S_TP, j] == st[S_TP, j] or st[S_TSL, j] == st[S_TSL, j]:
                side = 1 if units > 0.0 else -1
                hit, reason = stop_hit_nb(side, st[S_REF, j], st[S_PEAK, j], st[S_SL, j], st[S_TP, j],
                                          st[S_TSL, j], open_[i, j], high[i, j], low[i, j])
                if hit == hit:
                    px = stop_fill_price_nb(side, hit, reason, slippage)
                    cash, free, k = _close_nb(trades, k, st, j, i, px, fees, reason, cash, free,
                                                      fl, nf)
                    n_open -= 1
                    pend_exit[j] = False
                    present[j] = False  # this bar's signals are ignored for it
                    st[S_LAST, j] = close[i, j]
                elif st[S_TSL, j] == st[S_TSL, j]:
                    if side > 0 and high[i, j] > st[S_PEAK, j]:
                        st[S_PEAK, j] = high[i, j]
                    elif side < 0 and low[i, j] < st[S_PEAK, j]:
                        st[S_PEAK, j] = low[i, j]
        # 3) signals at the close
        for j in range(m):
            if close[i, j] == close[i, j]:
                st[S_LAST, j] = close[i, j]
        if next_open:
            if i < n - 1:
                for j in range(m):
                    if not present[j]:
                        continue
                    do_close, new_side, reason = _decide(st, j, i, entries, exits, short_entries,
                                                         short_exits, has_short)
                    if do_close:
                        pend_exit[j] = True
                        pend_reason[j] = reason
                    if new_side != 0:
                        pend_entry[j] = True
                        pend_side[j] = new_side
                        pend_sig[j] = i
                        pend_key[j] = _key(rank, has_rank, i, j, new_side)
        else:
            for j in range(m):
                row_px[j] = close[i, j]
            n_cand = 0
            for j in range(m):
                if not present[j]:
                    continue
                do_close, new_side, reason = _decide(st, j, i, entries, exits, short_entries,
                                                     short_exits, has_short)
                if do_close:
                    px = _exit_px(st[S_UNITS, j], close[i, j], slippage)
                    cash, free, k = _close_nb(trades, k, st, j, i, px, fees, reason, cash, free,
                                                      fl, nf)
                    n_open -= 1
                if new_side != 0:
                    cand[n_cand] = j
                    keys[n_cand] = _key(rank, has_rank, i, j, new_side)
                    sig_row[j] = i
                    ent_side[j] = new_side
                    n_cand += 1
            if reb:
                cash, free = _rebalance_nb(
                    st, row_px, present, True, _target_nb(alloc_mode, alloc_value, _equity_nb(st, cash),
                                                         max_positions, m),
                    fees, slippage, cash, free, i, fl, nf)
            if n_cand > 0:
                cash, free, n_open, status = _entries_nb(
                    st, cand, n_cand, keys, sig_row, ent_side, i, row_px, cash, free, n_open, fees,
                    slippage, size_mode, size_value, alloc_mode, alloc_value, max_positions,
                    sl, tp, tsl, status, fl, nf)
            if reb:
                cash, free = _rebalance_nb(
                    st, row_px, present, False, _target_nb(alloc_mode, alloc_value, _equity_nb(st, cash),
                                                         max_positions, m),
                    fees, slippage, cash, free, i, fl, nf)
        # 4) marks at the close
        eq = cash
        for j in range(m):
            units = st[S_UNITS, j]
            if close[i, j] == close[i, j]:
                bars_present[j] += 1
                if units != 0.0:
                    bars_held[j] += 1
            if units != 0.0:
                eq += units * st[S_LAST, j]
            if rec_pos:
                position[i, j] = units
            if rec_con:
                contrib[i, j] = st[S_FLOW, j] + (units * st[S_LAST, j] if units != 0.0 else 0.0)
        equity[i] = eq
        cash_out[i] = cash
        n_open_out[i] = n_open

    for j in range(m):  # still open: marked at the last close, no exit fee
        units_out[j] = st[S_UNITS, j]
        if st[S_UNITS, j] != 0.0:
            k = _log_nb(trades, k, st, j, n - 1, st[S_LAST, j], 0.0, EXIT_OPEN)
    return trades, k, status, fl


def _grid_f64(x: np.ndarray, name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
        raise ValidationError(f"{name}: expected numbers (float64), got dtype {arr.dtype}",
                              details={"param": name, "dtype": str(arr.dtype)})
    if arr.shape != shape:
        raise ValidationError(f"{name}: expected shape {shape} (bars, symbols), got {arr.shape}",
                              details={"param": name, "expected": list(shape), "shape": list(arr.shape)})
    return np.ascontiguousarray(arr, dtype=np.float64)


def _grid_bool(x: np.ndarray, name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype != np.bool_:
        raise ValidationError(f"{name}: expected a boolean signal grid, got dtype {arr.dtype}",
                              details={"param": name, "dtype": str(arr.dtype)})
    if arr.shape != shape:
        raise ValidationError(f"{name}: expected shape {shape} (bars, symbols), got {arr.shape}",
                              details={"param": name, "expected": list(shape), "shape": list(arr.shape)})
    return np.ascontiguousarray(arr)


def _stop_grid(value: np.ndarray | float | None, name: str, shape: tuple[int, int]) -> np.ndarray:
    if value is None:
        return np.full((1, 1), np.nan)
    if np.ndim(value) == 0:
        v = float(value)  # type: ignore[arg-type]
        if v == v and not v > 0.0:
            raise ValidationError(f"{name}: a stop is a positive fraction of the entry price "
                                  f"(0.02 = 2%), got {v}", details={"param": name, "value": v})
        return np.full((1, 1), v)
    arr = _grid_f64(value, name, shape)  # type: ignore[arg-type]
    if np.any(arr <= 0.0):
        raise ValidationError(f"{name}: stop fractions must be > 0 (NaN = off)", details={"param": name})
    return arr


def _fill_capacity(entries: np.ndarray, short_entries: np.ndarray, rebalance_every: int) -> int:
    """The fill log's first capacity: an entry and its exit are two fills, a rebalance row
    adds about one a symbol (capped at 1M; a run that needs more runs again, sized)."""
    n, m = entries.shape
    shorts = int(np.count_nonzero(short_entries)) if short_entries.shape[0] > 1 else 0
    extra = min(m * (n // rebalance_every), 1_000_000) if rebalance_every else 0
    return 2 * (int(np.count_nonzero(entries)) + shorts) + 16 + extra


def simulate_portfolio(
    open: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    entries: np.ndarray, exits: np.ndarray, short_entries: np.ndarray | None = None,
    short_exits: np.ndarray | None = None, *, rank: np.ndarray | None = None,
    init_cash: float = 10_000.0, fees: float = 0.0, slippage: float = 0.0,
    fill_timing: str = "next_open", size_mode: str = "percent_equity", size_value: float = 1.0,
    allocation: str = "sizing", alloc_value: float = 1.0, max_positions: int = 0,
    rebalance_every: int = 0, sl: np.ndarray | float | None = None,
    tp: np.ndarray | float | None = None, tsl: np.ndarray | float | None = None,
    record: bool = True, fills: bool = True,
) -> PortfolioSim:
    """Run one shared-cash backtest over ``(n_bars, n_symbols)`` grids (see the module doc).

    A NaN close marks a missing bar. ``short_entries``/``short_exits``: boolean grids
    of the short side (None = long only). ``rank``: a float grid (higher = preferred when
    entries outnumber the free slots). ``record=False`` skips the per-symbol grids
    ``position`` and ``contrib`` (shape (1, 1) then); ``fills=False`` skips the fill log
    (its ``fill_*`` arrays are empty then). Raises ValidationError on bad input.
    """
    from workbench.engine import _checks
    from workbench.engine.simulator import FILL_TIMINGS, SIZE_MODES, SIZE_RISK_PERCENT, _code

    c = np.asarray(close)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise ValidationError(f"close: expected a (bars, symbols) grid with at least one of each, "
                              f"got shape {c.shape}", details={"param": "close", "shape": list(c.shape)})
    shape = (int(c.shape[0]), int(c.shape[1]))
    o, h, lo, c = (_grid_f64(a, nm, shape) for a, nm in ((open, "open"), (high, "high"),
                                                          (low, "low"), (close, "close")))
    le = _grid_bool(entries, "entries", shape)
    lx = _grid_bool(exits, "exits", shape)
    no_short = np.zeros((1, 1), dtype=np.bool_)
    se = no_short if short_entries is None else _grid_bool(short_entries, "short_entries", shape)
    sx = no_short if short_exits is None else _grid_bool(short_exits, "short_exits", shape)
    if se.shape[0] != sx.shape[0]:  # one side given: the other never fires
        se = se if se.shape[0] == shape[0] else np.zeros(shape, dtype=np.bool_)
        sx = sx if sx.shape[0] == shape[0] else np.zeros(shape, dtype=np.bool_)
    rk = np.full((1, 1), np.nan) if rank is None else _grid_f64(rank, "rank", shape)
    ft = _code(FILL_TIMINGS, fill_timing, "fill_timing")
    sm = _code(SIZE_MODES, size_mode, "size_mode")
    am = _code(ALLOCATIONS, allocation, "allocation")
    cash0 = _checks.fraction(init_cash, "init_cash", low=1e-9)
    fee = _checks.fraction(fees, "fees", high=0.5)
    slip = _checks.fraction(slippage, "slippage", high=0.5)
    sv = _checks.fraction(size_value, "size_value", low=0.0)
    av = _checks.fraction(alloc_value, "alloc_value", low=0.0)
    if sv <= 0.0 or (sm == SIZE_PERCENT_EQUITY and sv > 1.0):
        raise ValidationError(f"size_value: {sv} is out of range for {size_mode!r} (percent_equity "
                              "takes a fraction in (0, 1], others > 0)",
                              details={"param": "size_value", "value": sv})
    if am in (ALLOC_FIXED_FRACTION, ALLOC_RISK) and not 0.0 < av <= 1.0:
        raise ValidationError(f"alloc_value: {allocation} takes a fraction of equity in (0, 1] "
                              f"(0.1 = 10%), got {av}", details={"param": "alloc_value", "value": av})
    for name, v in (("max_positions", max_positions), ("rebalance_every", rebalance_every)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValidationError(f"{name}: a whole number >= 0 (0 = off), got {v!r}",
                                  details={"param": name, "value": repr(v)})
    sl_a, tp_a, tsl_a = (_stop_grid(v, nm, shape) for v, nm in ((sl, "sl"), (tp, "tp"), (tsl, "tsl")))
    needs_stop = am == ALLOC_RISK or (am == ALLOC_SIZING and sm == SIZE_RISK_PERCENT)
    if needs_stop and np.all(np.isnan(sl_a)) and np.all(np.isnan(tsl_a)):
        raise ValidationError("risk sizing sizes from the stop distance: give sl (or tsl)",
                              details={"param": "sl", "allocation": str(allocation)})
    n, m = shape
    eq, cash, n_open = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
    grid = (n, m) if record else (1, 1)
    pos, con = np.empty(grid, dtype=np.float32), np.empty(grid)
    held, present = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    units = np.empty(m)
    nf = np.zeros(1, dtype=np.int64)
    capacity = _fill_capacity(le, se, int(rebalance_every))
    while True:
        tr, k, status, fl = portfolio_nb(
            o, h, lo, c, le, lx, se, sx, rk, sl_a, tp_a, tsl_a, cash0, fee, slip, ft, sm, sv, am,
            av, int(max_positions), int(rebalance_every), eq, cash, n_open, pos, con, held,
            present, units, capacity if fills else -1, nf)
        if not fills or nf[0] <= capacity:
            break
        capacity = int(nf[0])  # the deterministic rerun fits exactly
    t = tr[:, :k]
    f = fl[:, :int(nf[0])] if fills else np.empty((N_FILL_FIELDS, 0))
    return PortfolioSim(
        equity=eq, cash=cash, n_open=n_open, position=pos, contrib=con, bars_held=held,
        bars_present=present, symbol=t[T_SYMBOL].astype(np.int64),
        entry_idx=t[T_ENTRY_IDX].astype(np.int64), exit_idx=t[T_EXIT_IDX].astype(np.int64),
        # the float fields are views of the kernel's logs (contiguous rows): no copies
        side=t[T_SIDE].astype(np.int8), size=t[T_SIZE], entry_price=t[T_ENTRY_PRICE],
        exit_price=t[T_EXIT_PRICE], fees=t[T_FEES], pnl=t[T_PNL],
        ret=t[T_RET], exit_reason=t[T_REASON].astype(np.int8), status=int(status),
        units=units, fill_row=f[F_ROW].astype(np.int64), fill_symbol=f[F_SYMBOL].astype(np.int64),
        fill_side=f[F_SIDE].astype(np.int8), fill_units=f[F_UNITS],
        fill_price=f[F_PRICE], fill_fees=f[F_FEES], fill_reason=f[F_REASON].astype(np.int8))
