"""Universe backtests: one strategy over many symbols on one shared cash account, long
and short (a short's value is locked out of the free cash: see the portfolio engine).

The graph's signals are computed per symbol on that symbol's own bars (one pass of each
kernel per symbol: indicators never see another symbol's gaps), then placed on the
union of every symbol's timestamps (a symbol with no bar at a time has NaN prices
there and does not trade) and simulated by :mod:`workbench.engine.portfolio`, whose
docstring states the call sequence and the portfolio rules.

``portfolio`` rules (a dict; all optional):

- ``max_positions`` (int, 0 = no limit): open positions at most; when more symbols
  enter on a bar than slots are free, the graph's ``rank`` block decides (highest first),
  else column order (the order of ``symbols``).
- ``allocation``: ``sizing`` (default: the strategy's sizing rule, fractions taken of
  portfolio equity), ``equal`` (equity / max_positions per entry, equity / number of
  symbols without a limit), ``fixed_fraction`` (``alloc_value`` of equity per entry) or
  ``risk`` (risk ``alloc_value`` of equity to the stop-loss per entry).
- ``alloc_value`` (fraction in (0, 1]): for ``fixed_fraction`` and ``risk``.
- ``rebalance_every`` (bars, 0 = never): with ``equal`` or ``fixed_fraction``, trade
  open positions, long and short, back to their target value every that many bars of
  the timeline (every order is in ``result.fills``).
- ``ranking`` (a node id of the graph, or None): the series that ranks the entries when
  slots are short: a ``rank`` block, or any block with a float series output (its first
  one); None ranks by column order. Left out, the graph's first ``rank`` block ranks.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from workbench.blocks.spec import Context
from workbench.errors import UnknownNameError, ValidationError, field_error
from workbench.graph import runner
from workbench.graph.backtest import index_of_value, prepare, trades_frame
from workbench.graph.compiler import Plan, SignalSet
from workbench.graph.strategy import Strategy, graph_sha256
from workbench.result import Result

PORTFOLIO_KEYS = ("max_positions", "allocation", "alloc_value", "rebalance_every", "ranking")


def portfolio_rules(rules: dict[str, Any] | None) -> dict[str, Any]:
    """The rules with their defaults (``ranking`` only when given: left out, the graph's
    first ``rank`` block ranks); unknown keys raise with a suggestion."""
    out: dict[str, Any] = {"max_positions": 0, "allocation": "sizing", "alloc_value": 1.0,
                           "rebalance_every": 0}
    for key, value in (rules or {}).items():
        if key not in PORTFOLIO_KEYS:
            raise UnknownNameError.build("portfolio rule", str(key), list(PORTFOLIO_KEYS))
        out[key] = value
    for key in ("max_positions", "rebalance_every"):
        v = out[key]
        if isinstance(v, float) and v.is_integer():
            out[key] = int(v)
    return out


#: The portfolio rules of a universe run (the ``portfolio`` settings key), as
#: :func:`workbench.api.backtest`'s ``portfolio=`` takes them.
PORTFOLIO_RULES = PORTFOLIO_KEYS
#: Upper bounds the settings panel accepts (a typo of 10⁹ is refused, not run).
MAX_POSITIONS, MAX_REBALANCE = 10_000, 1_000_000


def _whole(rules: Mapping[str, Any], key: str, hi: int, what: str) -> int:
    value = rules[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise field_error(key, f"{key} must be {what} (0 to {hi:,}); got {value!r}.",
                          param=f"portfolio.{key}", value=repr(value))
    return value


def ranking_nodes(graph: Mapping[str, Any] | None) -> list[str]:
    """The node ids of ``graph`` that can rank a universe's entries: ``rank`` blocks and
    blocks with a float series output (the settings panel's "Ranking" choices)."""
    from workbench.blocks import get_block
    from workbench.errors import UnknownNameError

    out = []
    for node in (graph or {}).get("nodes") or []:
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
            continue
        try:
            block = get_block(str(node.get("type")))
        except (UnknownNameError, KeyError):
            continue
        if block.type == "rank" or any(p.type == "series_float" for p in block.outputs):
            out.append(node["id"])
    return out


def check_portfolio(rules: Any, graph: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``portfolio`` settings key checked rule by rule (the names and ranges of
    :mod:`workbench.graph.universe`): ``max_positions`` (whole, 0 = no limit),
    ``allocation`` (``sizing``, ``equal``, ``fixed_fraction``, ``risk``), ``alloc_value``
    (fraction in (0, 1], needed by fixed_fraction and risk), ``rebalance_every`` (bars,
    0 = never; equal or fixed_fraction only) and ``ranking`` (a node id of ``graph`` with
    a float series, or None for symbol order; left out, the first rank block ranks).
    Only the rules given are returned; each error names its field (``details.field``)."""
    if rules is None:
        return {}
    from workbench.engine.portfolio import ALLOCATIONS

    if not isinstance(rules, Mapping):
        raise field_error("portfolio", f"portfolio must be a mapping of rules ({', '.join(PORTFOLIO_RULES)}); "
                          f"got {type(rules).__name__}.")
    unknown = [str(k) for k in rules if k not in PORTFOLIO_RULES]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], PORTFOLIO_RULES, n=1)
        raise field_error("portfolio", f"Unknown portfolio rule {unknown[0]!r}."
                          + (f" Did you mean {close[0]!r}?" if close else "")
                          + f" Rules: {', '.join(PORTFOLIO_RULES)}.", code="unknown_name", unknown=unknown)
    out: dict[str, Any] = {}
    if rules.get("max_positions") is not None:
        out["max_positions"] = _whole(rules, "max_positions", MAX_POSITIONS,
                                      "a whole number of open positions, 0 = no limit")
    allocation = rules.get("allocation")
    if allocation is not None:
        if not isinstance(allocation, str) or allocation not in ALLOCATIONS:
            raise field_error("allocation", f"allocation must be one of {', '.join(ALLOCATIONS)}; "
                              f"got {allocation!r}.", param="portfolio.allocation", value=repr(allocation))
        out["allocation"] = allocation
    if rules.get("alloc_value") is not None:
        value = rules["alloc_value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or not 0 <= value <= 1:
            raise field_error("alloc_value", "alloc_value must be a fraction of equity above 0 and at "
                              f"most 1 (0.1 = 10 %); got {value!r}.", value=value)
        value = float(value)
        if value <= 0:
            raise field_error("alloc_value", "alloc_value must be a fraction of equity above 0 and at "
                              "most 1 (0.1 = 10 %); got 0.", param="portfolio.alloc_value", value=value)
        out["alloc_value"] = value
    elif allocation in ("fixed_fraction", "risk"):
        raise field_error("alloc_value", f"allocation {allocation} needs alloc_value: the fraction of "
                          "equity per entry (fixed_fraction) or risked to the stop (risk).",
                          param="portfolio.alloc_value")
    if rules.get("rebalance_every") is not None:
        out["rebalance_every"] = _whole(rules, "rebalance_every", MAX_REBALANCE,
                                        "a whole number of bars, 0 = never")
        if out["rebalance_every"] and allocation not in ("equal", "fixed_fraction"):
            raise field_error("rebalance_every", "rebalance_every trades positions back to a target "
                              "weight: use it with allocation equal or fixed_fraction (or set it to 0).",
                              param="portfolio.rebalance_every", value=out["rebalance_every"])
    if "ranking" in rules:
        ranking = rules["ranking"]
        if ranking is None or ranking == "":
            out["ranking"] = None
        else:
            known = ranking_nodes(graph) if graph is not None else None
            if not isinstance(ranking, str) or (known is not None and ranking not in known):
                raise field_error("ranking", f"ranking must be a node of the strategy with a float "
                                  f"series (or none for symbol order); got {ranking!r}"
                                  + (f". Nodes that can rank: {', '.join(known) or 'none'}." if known is not None else "."),
                                  param="portfolio.ranking", value=repr(ranking), known=known)
            out["ranking"] = ranking
    return out


def resolve_symbols(symbols: Any, timeframe: str | None) -> list[str]:
    """A list of symbols as given, or the symbols of a universe name (see
    :mod:`workbench.data.universes`); ``"A,B,C"`` is a list too."""
    from workbench.data.universes import clean_symbols, universe

    if isinstance(symbols, str):
        if "," in symbols:
            return clean_symbols(symbols.split(","))
        return universe(symbols.strip(), timeframe)
    return clean_symbols(symbols)


def contexts(symbols: list[str], timeframe: str | None, start: Any, end: Any,
             candles: Any) -> list[Context]:
    """One candle context per symbol, from the cache or from ``candles`` (a dict)."""
    from workbench.graph.data import load

    if candles is None:
        return [load(s, timeframe, start, end) for s in symbols]
    if not isinstance(candles, dict):
        raise ValidationError("with symbols=, candles= is a dict {symbol: DataFrame or Candles}",
                              details={"type": type(candles).__name__})
    missing = [s for s in symbols if s not in candles]
    if missing:
        raise ValidationError(f"candles: no candles for {', '.join(missing)}",
                              details={"missing": missing})
    return [load(s, timeframe, start, end, candles[s]) for s in symbols]


def _signals(plan: Plan, ctx: Context, memo: dict[Any, Any] | None = None) -> SignalSet:
    return plan.run(ctx, memo)


#: Blocks whose compute shares process state (the model cache and training log of
#: ``predict``): their plans compute one symbol after another.
_SERIAL_BLOCKS = frozenset({"predict"})


def _all_signals(plan: Plan, ctxs: list[Context], memos: list[dict[Any, Any]] | None,
                 workers: int | None = None) -> list[SignalSet]:
    """One pass of the graph per symbol, the symbols spread over up to ``workers``
    threads (default: the CPUs; the engine's kernels release the GIL, so the passes run
    side by side). Plans that read other timeframes from the cache or train models run
    serially (a shared DuckDB connection and model cache). The first symbol in order
    that fails raises, as in a serial loop."""
    def one(j: int) -> SignalSet:
        return _signals(plan, ctxs[j], memos[j] if memos is not None else None)

    n = min(len(ctxs), workers if workers is not None else (os.cpu_count() or 1))
    serial = plan.multi_timeframe or any(step.block.type in _SERIAL_BLOCKS for step in plan.steps)
    if n < 2 or serial:
        return [one(j) for j in range(len(ctxs))]
    with ThreadPoolExecutor(n, thread_name_prefix="wb-universe") as pool:
        return list(pool.map(one, range(len(ctxs))))


def _scatter(n: int, rows: list[np.ndarray], columns: list[np.ndarray | None], fill: Any,
             dtype: Any) -> np.ndarray | None:
    if all(c is None for c in columns):
        return None
    grid = np.full((n, len(rows)), fill, dtype=dtype)
    for j, (r, c) in enumerate(zip(rows, columns, strict=True)):
        if c is not None:
            grid[r, j] = c
    return grid


def run_universe(strategy: Strategy, symbols: list[str], timeframe: str | None, *, start: Any = None,
                 end: Any = None, candles: Any = None, params: dict[str, Any] | None = None,
                 settings: dict[str, Any] | None = None,
                 portfolio: dict[str, Any] | None = None, curves: bool = False) -> PortfolioResult:
    """Backtest ``strategy`` over ``symbols`` on one cash account (module docstring).

    The portfolio equity is always made in the one simulation; the per-symbol grids
    (``contribution``, ``holdings``) are made by running it again when first read, or in
    that one pass with ``curves=True`` (for callers that always read them: a recorded
    run's document)."""
    ctxs = contexts(symbols, timeframe, start, end, candles)
    return _run(strategy, symbols, ctxs, timeframe, params, settings, portfolio_rules(portfolio),
                span=(start, end), curves=curves)


def sweep_universe(strategy: Strategy, grid: dict[str, Any], symbols: list[str], timeframe: str | None, *,
                   start: Any = None, end: Any = None, candles: Any = None,
                   params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                   portfolio: dict[str, Any] | None = None, progress: bool = False) -> pd.DataFrame:
    """One universe backtest per combination of ``grid`` (as :func:`wb.sweep` takes it;
    ``"portfolio.<rule>"`` keys sweep the portfolio rules too): the swept values, then the
    portfolio metrics. Candles are read once; each symbol's indicator outputs that a
    combination does not change are reused (one memo per symbol). A combination that
    makes the graph or the rules invalid gets NaN metrics and the reason in ``error``."""
    ctxs = contexts(symbols, timeframe, start, end, candles)
    return sweep_contexts(strategy, grid, symbols, ctxs, timeframe, params=params, settings=settings,
                          portfolio=portfolio, progress=progress)


def sweep_contexts(strategy: Strategy, grid: dict[str, Any], symbols: list[str], ctxs: list[Context],
                   timeframe: str | None, *, params: dict[str, Any] | None = None,
                   settings: dict[str, Any] | None = None, portfolio: dict[str, Any] | None = None,
                   progress: bool = False) -> pd.DataFrame:
    """:func:`sweep_universe` over candles already loaded (one context per symbol)."""
    from tqdm.auto import tqdm

    from workbench.errors import WorkbenchError
    from workbench.graph.sweeps import expand_grid

    keys, combos = expand_grid(grid)
    memos: list[dict[Any, Any]] = [{} for _ in symbols]
    names = list(runner.metric_names())
    rows: list[list[float]] = []
    errors: list[str | None] = []
    for combo in tqdm(combos, desc="universe sweep", unit="combo", disable=not progress, leave=False):
        rules = dict(portfolio or {})
        over = dict(params or {})
        for key, value in combo.items():
            if str(key).startswith("portfolio."):
                rules[str(key).partition(".")[2]] = value
            else:
                over[key] = value
        try:
            res = _run(strategy, symbols, ctxs, timeframe, over, settings, portfolio_rules(rules), memos)
        except UnknownNameError:
            raise  # a misspelt node, parameter or rule is the caller's, not the combination's
        except WorkbenchError as exc:
            rows.append([np.nan] * len(names))
            errors.append(exc.message)
            continue
        rows.append([float(res.metrics.get(k, np.nan)) for k in names])
        errors.append(None)
    frame = pd.concat([pd.DataFrame(combos, columns=keys), pd.DataFrame(rows, columns=names)], axis=1)
    if any(errors):
        frame["error"] = errors
    return frame


def run_contexts(strategy: Strategy, symbols: list[str], ctxs: list[Context], timeframe: str | None, *,
                 params: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                 portfolio: dict[str, Any] | None = None, first_row: int = 0) -> PortfolioResult:
    """:func:`run_universe` over candles already loaded; ``first_row``: see :func:`_run`."""
    return _run(strategy, symbols, ctxs, timeframe, params, settings, portfolio_rules(portfolio),
                first_row=first_row)


def _run(strategy: Strategy, symbols: list[str], ctxs: list[Context], timeframe: str | None,
         params: dict[str, Any] | None, settings: dict[str, Any] | None, rules: dict[str, Any],
         memos: list[dict[Any, Any]] | None = None, first_row: int = 0,
         span: tuple[Any, Any] = (None, None), curves: bool = False) -> PortfolioResult:
    """The universe backtest of ``ctxs``; with ``first_row`` > 0 the signals are computed
    on all the bars given (warmed up) and the account starts flat at that row of the
    union timeline (a walk-forward's test window); ``curves``: see :func:`run_universe`."""
    from workbench.engine.portfolio import simulate_portfolio

    doc, plan = prepare(strategy, params, settings)
    ts = np.unique(np.concatenate([np.asarray(c.ts, dtype=np.int64) for c in ctxs]))
    n = int(ts.shape[0])
    rows = [np.searchsorted(ts, np.asarray(c.ts, dtype=np.int64)) for c in ctxs]
    sigs = _all_signals(plan, ctxs, memos)
    ranking = ranking_source(plan, rules)
    grids = {f: _scatter(n, rows, [getattr(c, f) for c in ctxs], np.nan, np.float64)
             for f in ("open", "high", "low", "close")}
    entries = _scatter(n, rows, [s.entries for s in sigs], False, np.bool_)
    exits = _scatter(n, rows, [s.exits for s in sigs], False, np.bool_)
    shorts = any(s.short_entries.any() or s.short_exits.any() for s in sigs)
    short_entries = _scatter(n, rows, [s.short_entries for s in sigs], False, np.bool_) if shorts else None
    short_exits = _scatter(n, rows, [s.short_exits for s in sigs], False, np.bool_) if shorts else None
    rank = _scatter(n, rows, [np.asarray(s.values[ranking[0]][ranking[1]], dtype=np.float64)
                              for s in sigs], np.nan, np.float64) if ranking else None
    stops = {k: _scatter(n, rows, [getattr(s, f"{k}_stop") for s in sigs], np.nan, np.float64)
             for k in ("sl", "tp", "tsl")}
    if first_row:
        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.ascontiguousarray(a[first_row:])

        ts, n = ts[first_row:], n - first_row
        grids = {f: cut(g) for f, g in grids.items()}
        entries, exits, short_entries, short_exits, rank = (
            cut(a) for a in (entries, exits, short_entries, short_exits, rank))
        stops = {k: cut(a) for k, a in stops.items()}
    st = plan.settings
    sizing = sigs[0].sizing

    def simulate(record: bool) -> Any:
        return simulate_portfolio(
            np.asarray(grids["open"]), np.asarray(grids["high"]), np.asarray(grids["low"]),
            np.asarray(grids["close"]), np.asarray(entries), np.asarray(exits), short_entries,
            short_exits, rank=rank,
            init_cash=float(st.initial_cash), fees=float(st.fees), slippage=float(st.slippage),
            fill_timing=st.fill_timing, size_mode=sizing.mode, size_value=float(sizing.value),
            allocation=rules["allocation"], alloc_value=rules["alloc_value"],
            max_positions=rules["max_positions"], rebalance_every=rules["rebalance_every"],
            sl=stops["sl"], tp=stops["tp"], tsl=stops["tsl"], record=record)

    sim = simulate(curves)  # else the per-symbol grids only when asked for (PortfolioResult)
    clock = runner.clock_for(timeframe, ts, st.annualization)
    m = runner.metrics(_MetricView(sim), st, clock)
    values = {k: float(v) for k, v in m.values.items()}
    index = pd.DatetimeIndex(ts.view("datetime64[ns]"), name="ts").tz_localize("UTC")
    close = np.asarray(grids["close"])
    warnings = [*m.notes, *runner.status_notes(int(sim.status)), *(str(p) for p in plan.warnings)]
    if sim.status & 8:
        warnings.append("some entries were dropped: every position slot (max_positions) was taken")
    digest = hashlib.sha256()
    for c in ctxs:
        digest.update(bytes.fromhex(_candles_sha(c)))
    provenance = {
        "strategy": strategy.name, "source": strategy.source, "graph_sha256": graph_sha256(doc),
        "candles_sha256": digest.hexdigest(), "params": {**(params or {})},
        "resolved_params": {nd.id: dict(plan.steps[plan.node_step[nd.id]].params) for nd in plan.graph.nodes},
        "settings": st.model_dump(mode="json"), "engine_version": runner.engine_version(),
        "symbol": None, "symbols": list(symbols), "portfolio": rules,
        "ranking": ranking[0] if ranking else None,
        "timeframe": clock.timeframe or timeframe, "annualization": clock.describe(),
        "start": span[0], "end": span[1],  # the range asked for (a rerun reads the same bars)
        "first_bar": index_of_value(ts[0]).isoformat(), "last_bar": index_of_value(ts[-1]).isoformat(),
        "n_bars": n, "n_bars_per_symbol": {s: int(np.count_nonzero(~np.isnan(close[:, j])))
                                           for j, s in enumerate(symbols)},
        "run_at": datetime.now(UTC).isoformat(),
    }
    return PortfolioResult(sim, index, close, list(symbols), values, warnings, provenance,
                           grids=None if curves else lambda: simulate(True))


def ranking_source(plan: Plan, rules: dict[str, Any]) -> tuple[str, str] | None:
    """``(node id, output)`` of the series that ranks entries (the ``ranking`` rule, see
    the module docstring), or None for column order; a node that is not in the graph or
    has no float series raises a ValidationError naming ``portfolio.ranking``."""
    nodes = {node.id: node for node in plan.graph.nodes}
    if "ranking" not in rules:
        first = next((node.id for node in plan.graph.nodes if node.type == "rank"), None)
        return (first, "rank") if first else None
    wanted = rules["ranking"]
    if wanted is None or wanted == "":
        return None
    node = nodes.get(str(wanted)) if isinstance(wanted, str) else None
    if node is None:
        import difflib

        close = difflib.get_close_matches(str(wanted), list(nodes), n=1)
        raise ValidationError(
            f"portfolio ranking: no node {wanted!r} in the graph"
            + (f"; did you mean {close[0]!r}?" if close else "")
            + " (give a node id with a float series output, or None for symbol order)",
            details={"param": "portfolio.ranking", "value": repr(wanted), "nodes": sorted(nodes)})
    if node.type == "rank":
        return node.id, "rank"
    block = plan.steps[plan.node_step[node.id]].block
    port = next((p.name for p in block.outputs if p.type == "series_float"), None)
    if port is None:
        raise ValidationError(
            f"portfolio ranking: node {node.id!r} ({node.type}) has no float series output to "
            "rank by: pick an indicator (e.g. a momentum block) or a rank block",
            details={"param": "portfolio.ranking", "value": node.id})
    return node.id, port


def _candles_sha(ctx: Context) -> str:
    from workbench.graph.data import candles_sha256

    return candles_sha256(ctx)


class _MetricView:
    """The portfolio run as :func:`runner.metrics` reads a single run: ``position`` is the
    number of open positions (exposure = bars with any position)."""

    def __init__(self, sim: Any) -> None:
        self.equity = sim.equity
        self.position = sim.n_open.astype(np.float64)
        self.pnl, self.ret, self.exit_reason = sim.pnl, sim.ret, sim.exit_reason


def _equal_weight_index(close: np.ndarray) -> np.ndarray:
    """Buy-and-hold of the universe in equal parts from each symbol's first bar (the
    stats' benchmark): the mean of each symbol's close relative to its first close."""
    frame = pd.DataFrame(close)
    first = frame.bfill().iloc[0].to_numpy()
    rel = frame.ffill().to_numpy() / first
    rel[np.isnan(rel)] = 1.0
    return np.ascontiguousarray(rel.mean(axis=1))


class PortfolioResult(Result):
    """A universe backtest: the :class:`Result` of the portfolio (equity, metrics, trades
    with a ``symbol`` column, ``position`` = number of open positions) plus
    ``symbols``, ``contribution`` (per-symbol running P&L, one column per symbol; they sum
    to ``equity - initial_cash``), ``holdings`` (units held per symbol),
    ``by_symbol`` (per symbol: P&L contribution, trades, exposure = share of the
    symbol's bars with a position, bars) and ``fills`` (every order executed, rebalance
    trades included, in execution order)."""

    def __init__(self, sim: Any, index: pd.DatetimeIndex, close: np.ndarray, symbols: list[str],
                 values: dict[str, float], warnings: list[str], provenance: dict[str, Any],
                 grids: Any = None) -> None:
        from workbench.engine.stats import compute_stats

        self.symbols = symbols
        self._sim = sim
        self._grids = grids  # reruns the (deterministic) kernel with the per-symbol grids
        self._close_grid = close

        def trades() -> pd.DataFrame:
            frame = trades_frame(sim, index)
            codes = pd.Categorical.from_codes(sim.symbol, pd.Index(symbols))
            frame.insert(0, "symbol", pd.Series(codes, index=frame.index))
            return frame

        super().__init__(
            metrics=lambda: pd.Series(values, name="metrics", dtype="float64"),
            trades=trades,
            equity=lambda: pd.Series(sim.equity, index=index, name="equity", copy=False),
            position=lambda: pd.Series(sim.n_open, index=index, name="open_positions"),
            close=lambda: pd.DataFrame(close, index=index,  # type: ignore[arg-type,return-value]
                                       columns=pd.Index(symbols, name="symbol")),
            warnings=warnings, provenance_fields=provenance,
            stat_values=lambda: compute_stats(index.asi8, _equal_weight_index(close), sim.fees,
                                              sim.ret, sim.entry_idx, sim.exit_idx, sim.exit_reason))
        self._index = index

    def _recorded(self) -> Any:
        """The run with its per-symbol grids: built on first access by running the
        kernel again with them (the same run: it is deterministic), so a result that
        only shows metrics and trades never holds two (bars x symbols) float grids."""
        if self._sim.contrib.shape[0] != self._sim.equity.shape[0] and self._grids is not None:
            self._sim = self._grids()
            self._grids = None
        return self._sim

    @property
    def arrays(self) -> Any:
        """The kernel's output (:class:`workbench.engine.portfolio.PortfolioSim`)."""
        return self._sim

    @property
    def contribution(self) -> pd.DataFrame:
        """Per-symbol running P&L (cash flows so far + holding at the last close)."""
        return pd.DataFrame(self._recorded().contrib, index=self._index,
                            columns=pd.Index(self.symbols, name="symbol"))

    @property
    def holdings(self) -> pd.DataFrame:
        """Units held per symbol at each bar's close (float32: ~7 significant digits, for
        tables and plots; exact units: ``fills`` and ``arrays.units`` at the end)."""
        return pd.DataFrame(self._recorded().position, index=self._index,
                            columns=pd.Index(self.symbols, name="symbol"))

    @property
    def fills(self) -> pd.DataFrame:
        """Every order the portfolio executed, in execution order (the engine's fill log):
        indexed by the bar it filled on (``ts``), with ``symbol``, ``side`` (buy/sell),
        ``units`` (> 0), ``price`` (the fill price, slippage included), ``fees`` (quote)
        and ``reason`` (``entry``, an exit reason, or ``rebalance``)."""
        from workbench.engine.portfolio import FILL_ENTRY, FILL_REBALANCE

        sim = self._sim
        names = {**runner.exit_reason_names(), FILL_ENTRY: "entry", FILL_REBALANCE: "rebalance"}
        return pd.DataFrame({
            "symbol": pd.Categorical.from_codes(sim.fill_symbol, pd.Index(self.symbols)),
            "side": np.where(sim.fill_side > 0, "buy", "sell"),
            "units": sim.fill_units, "price": sim.fill_price, "fees": sim.fill_fees,
            "reason": [names[int(c)] for c in sim.fill_reason],
        }, index=pd.DatetimeIndex(self._index[sim.fill_row], name="ts"))

    @property
    def by_symbol(self) -> pd.DataFrame:
        """One row per symbol: ``pnl`` (its contribution at the end: the P&L of its
        trades, the open one marked at the last close), ``n_trades``,
        ``exposure`` (fraction of its bars with a position), ``bars``."""
        sim = self._sim
        counts = np.bincount(sim.symbol, minlength=len(self.symbols))
        present = sim.bars_present.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            exposure = np.where(present > 0, sim.bars_held / present, np.nan)
        pnl = np.bincount(sim.symbol, weights=sim.pnl, minlength=len(self.symbols))
        return pd.DataFrame({"pnl": pnl, "n_trades": counts, "exposure": exposure,
                             "bars": sim.bars_present},
                            index=pd.Index(self.symbols, name="symbol"))

    def __repr__(self) -> str:
        return super().__repr__().replace("<Result", f"<PortfolioResult {len(self.symbols)} symbols", 1)

    def to_dict(self, max_points: int | None = None) -> dict[str, Any]:
        """As :meth:`Result.to_dict`, plus ``by_symbol`` rows."""
        from workbench.jsonable import plain

        out = super().to_dict(max_points)
        out["by_symbol"] = plain(self.by_symbol.reset_index().to_dict(orient="records"))
        return out

    def plot(self, width: int = 800, theme: str = "auto") -> Any:
        """Portfolio equity and drawdown, and each symbol's running P&L contribution;
        ``theme`` as for :meth:`Result.plot`."""
        from workbench.notebook_resources import themed, use_jupyter_server

        use_jupyter_server()
        try:
            import hvplot.pandas  # noqa: F401
        except ImportError as exc:  # pragma: no cover - the app extra is missing
            from workbench.errors import MissingDependencyError

            raise MissingDependencyError.for_extra("hvplot", "app") from exc
        eq = self.equity.hvplot.line(title="Portfolio equity", ylabel="equity", width=width, height=220)
        dd = self.drawdown.hvplot.area(title="Drawdown", ylabel="drawdown (fraction)", width=width,
                                       height=160, color="firebrick", alpha=0.5)
        per = self.contribution.hvplot.line(title="P&L contribution per symbol", ylabel="P&L",
                                            width=width, height=260)
        return themed((eq + dd + per).cols(1), theme)

