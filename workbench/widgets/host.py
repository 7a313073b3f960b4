"""What every canvas host does on the Python side, apart from any widget toolkit.

The one canvas protocol (#13): the notebook widget (:mod:`workbench.widgets.canvas_widget`),
the Panel component (:mod:`workbench.widgets.panel_canvas`, also the app's canvas page) and
the Lab server extension (:mod:`workbench.server.service`) hold the same model keys
(``extensions/canvas/README.md``: graph, catalog, problems, result, run_requested, status,
busy, settings, series, readonly) and build them with these functions, so the canvas shows
the same payload, wording and formatting in every host
(``tests/canvas/test_protocol_contract.py``).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFoundError, ValidationError, WorkbenchError, field_error
from workbench.jsonable import plain

if TYPE_CHECKING:
    from workbench.result import Result

#: The one canvas bundle, built from ``extensions/canvas`` by ``make js``.
BUNDLE = Path(__file__).resolve().parent / "static" / "canvas.js"
SCHEMA_ID = "workbench.strategy/1"
#: How many equity points the results panel's sparkline gets (the chart needs no more).
SPARK_POINTS = 200
HEADLINE = (
    "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar",
    "win_rate", "profit_factor", "n_trades", "exposure",
)
#: Metric names that hold fractions and are shown as percent.
PERCENT = re.compile(r"return|drawdown|cagr|volatility|rate|exposure|fees|slippage", re.I)


def bundle_path() -> Path:
    """The built canvas ES module; a clear error when it was not built."""
    if not BUNDLE.is_file():
        raise NotFoundError(
            f"the canvas bundle {BUNDLE} is missing: build it with `make js` "
            "(needs Node.js; installed wheels ship it prebuilt)",
            details={"path": str(BUNDLE)},
        )
    return BUNDLE


def load_catalog() -> dict[str, Any]:
    """The block catalog JSON the palette is generated from (``workbench blocks --json``)."""
    from workbench.blocks import catalog_json

    return catalog_json()


def empty_graph(name: str = "Untitled strategy") -> dict[str, Any]:
    return {"schema": SCHEMA_ID, "name": name, "description": "", "nodes": [], "edges": []}


def graph_of(obj: Any) -> dict[str, Any]:
    """Strategy JSON (a dict) from a dict, a Strategy-like object, JSON text, a path or a
    starter name, so ``canvas(...)`` takes whatever the user has at hand."""
    if obj is None:
        return empty_graph()
    if isinstance(obj, Mapping):
        return copy.deepcopy(dict(obj))
    from workbench.graph.models import StrategyGraph
    from workbench.graph.strategy import Strategy

    if isinstance(obj, Strategy):
        return graph_of(obj.document)
    if isinstance(obj, StrategyGraph):
        return graph_of(obj.to_json_dict())
    if isinstance(obj, Path) or (isinstance(obj, str) and obj.endswith(".json")):
        path = Path(obj)
        if not path.is_file():
            raise NotFoundError(f"strategy file {path} does not exist", details={"path": str(path)})
        return graph_of(json.loads(path.read_text(encoding="utf-8")))
    if isinstance(obj, str):
        text = obj.strip()
        if text.startswith("{"):
            return graph_of(json.loads(text))
        from workbench import api  # a starter strategy name, e.g. "sma_crossover"

        return graph_of(api.starter(text))
    raise ValidationError(
        f"cannot open {type(obj).__name__} on the canvas: pass a strategy dict, a Strategy, "
        "a *.strategy.json path or a starter name such as 'sma_crossover'",
    )


def problem_dict(problem: Any) -> dict[str, Any]:
    """A validation problem as the canvas shows it: node, port, code, message, severity."""
    if isinstance(problem, Mapping):
        raw = dict(problem)
    elif hasattr(problem, "model_dump"):
        raw = problem.model_dump(mode="json")
    else:
        raw = {"code": "problem", "message": str(problem)}
    return {
        "node": raw.get("node"),
        "port": raw.get("port"),
        "code": str(raw.get("code", "problem")),
        "message": str(raw.get("message", "")),
        "severity": str(raw.get("severity", "error")),
    }


def validate_graph(graph: Any, timeframe: Any = None) -> list[dict[str, Any]]:
    """All problems of ``graph`` as JSON dicts (never raises for a bad document);
    ``timeframe``: the run settings' one, so a source reading a finer timeframe is badged."""
    from workbench.api import validate

    return [problem_dict(p) for p in validate(graph, timeframe=str(timeframe) if timeframe else None)]


def status_for(problems: list[dict[str, Any]]) -> str:
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "Valid: ready to run."
    parts = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return " and ".join(parts) + " (see the badges)."


def format_metric(name: str, value: Any) -> str:
    """One formatting rule for every host: fractions named like one (return, drawdown,
    CAGR, volatility, rates, exposure) as percent, counts with thousands separators, other
    numbers with three decimals (none past 1,000)."""
    if value is None or isinstance(value, bool):
        return "–" if value is None else str(value)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–" if isinstance(value, float) else str(value)
    if PERCENT.search(name) and "duration" not in name:
        return f"{value * 100:.2f} %"
    if float(value).is_integer() and (isinstance(value, int) or name.startswith("n_")):
        return f"{int(value):,}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"


def used_settings(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a run used (from its provenance): candles, bar range, fees, slippage,
    fill timing, initial cash and sizing (and a universe run's portfolio rules), each also
    formatted for the results panel."""
    engine = dict(provenance.get("settings") or {})
    sizing = dict(engine.get("sizing") or {})
    used = {
        "symbol": provenance.get("symbol"), "symbols": provenance.get("symbols"),
        "timeframe": provenance.get("timeframe"),
        "start": provenance.get("start"), "end": provenance.get("end"),
        "fees": engine.get("fees"), "slippage": engine.get("slippage"),
        "fill_timing": engine.get("fill_timing"), "initial_cash": engine.get("initial_cash"),
        "sizing": sizing or None,
        "portfolio": ({**dict(provenance["portfolio"]), "ranking": provenance.get("ranking")}
                      if provenance.get("portfolio") is not None else None),
    }
    mode = str(sizing.get("mode", ""))
    size = sizing.get("value")
    shown_size = (format_metric("rate", size) if mode in ("percent_equity", "risk_percent")
                  else format_metric("", size))
    used["text"] = {
        "candles": " ".join(str(used[k]) for k in ("symbol", "timeframe") if used[k])
        if not used["symbols"] else f"{symbols_text(used['symbols'])} {used['timeframe'] or ''}".strip(),
        "range": f"{str(used['start'] or '')[:10]} → {str(used['end'] or '')[:10]}",
        "fees": format_metric("rate", used["fees"]),
        "slippage": format_metric("rate", used["slippage"]),
        "fill": str(used["fill_timing"] or "").replace("_", " "),
        "cash": format_metric("", used["initial_cash"]),
        "sizing": f"{mode.replace('_', ' ')} {shown_size}".strip() if mode else "",
        "portfolio": portfolio_text(used["portfolio"]) if used["portfolio"] else "",
    }
    return used


#: How the results panel and the settings panel name the allocation rules.
ALLOCATION_TEXT = {"sizing": "strategy's sizing", "equal": "equal weight",
                   "fixed_fraction": "fixed fraction", "risk": "risk to stop"}


def portfolio_text(rules: Mapping[str, Any]) -> str:
    """``max 2 positions · equal weight · rebalance every 20 bars · ranked by mom``: a
    universe run's rules in one line (the results panel's "Settings used")."""
    mp = rules.get("max_positions") or 0
    alloc = str(rules.get("allocation") or "sizing")
    shown = ALLOCATION_TEXT.get(alloc, alloc)
    if alloc in ("fixed_fraction", "risk"):
        shown += f" {format_metric('rate', rules.get('alloc_value'))}"
    parts = [f"max {mp} position{'s' if mp != 1 else ''}" if mp else "no position limit", shown]
    if rules.get("rebalance_every"):
        parts.append(f"rebalance every {rules['rebalance_every']} bars")
    parts.append(f"ranked by {rules['ranking']}" if rules.get("ranking") else "symbol order")
    return " · ".join(parts)


def result_payload(result: Result, label: str = "") -> dict[str, Any]:
    """The ``result`` model key of a :class:`Result` just run (the widget, Panel, Lab);
    a universe run (:class:`~workbench.graph.universe.PortfolioResult`) adds its
    per-symbol rows (``by_symbol``)."""
    out = _payload(plain(dict(result.metrics.items())), plain(result.equity.to_numpy()), label,
                   plain(dict(result.provenance)))
    from workbench.graph.universe import PortfolioResult

    if isinstance(result, PortfolioResult):
        from workbench.runs.document import by_symbol_rows

        out["by_symbol"] = by_symbol_rows(result)
    return out


def document_payload(doc: Mapping[str, Any], label: str = "") -> dict[str, Any]:
    """The same ``result`` model key from a stored result document
    (:mod:`workbench.runs.document`: what the app's canvas draws after a recorded run)."""
    out = _payload(dict(doc["metrics"]), list(doc["equity"]["value"]), label,
                   dict(doc.get("provenance") or {}))
    if doc.get("portfolio"):
        out["by_symbol"] = list(doc["portfolio"].get("by_symbol") or [])
    return out


def _payload(metrics: dict[str, Any], seq: list[Any], label: str,
             provenance: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics (all, JSON-safe, and formatted), headline names, the settings used, and the
    equity curve thinned to at most :data:`SPARK_POINTS` points for the sparkline."""
    step = max(1, math.ceil(len(seq) / SPARK_POINTS))
    values = seq[::step]
    if seq and (len(seq) - 1) % step:
        values.append(seq[-1])
    headline = [k for k in HEADLINE if k in metrics] or list(metrics)[:10]
    return {"metrics": metrics, "headline": headline,
            "display": {k: format_metric(k, v) for k, v in metrics.items()},
            "equity": values, "label": label, "settings": used_settings(provenance),
            "error": None, "field": None, "by_symbol": None}


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The ``result`` key after a failed run: the message, and the settings field at fault
    (``details.field``) so the canvas shows the error beside it."""
    message = exc.message if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
    details = exc.details if isinstance(exc, WorkbenchError) else {}
    field = (details or {}).get("field")
    return {"metrics": {}, "headline": [], "display": {}, "equity": [], "label": "",
            "settings": None, "error": message, "field": field if isinstance(field, str) else None,
            "by_symbol": None}


def run_backtest(graph: Mapping[str, Any], **kwargs: Any) -> Any:
    """Backtest the canvas graph through the public API (the same call a notebook makes).
    The payload always draws a one-symbol run's equity, so its curves are made in the one
    simulation (``curves=True``); a universe's equity always is, and the payload draws
    none of its per-symbol grids (``curves`` given in ``kwargs`` wins)."""
    from workbench import api

    return api.backtest(dict(graph), **{"curves": kwargs.get("symbols") is None, **kwargs})


def run_status(kwargs: Mapping[str, Any], state: str) -> str:
    """The toolbar's line, ``Backtest on GOOG 1d: done``: short (the result's label and its
    "Settings used" say the rest)."""
    where = " ".join(str(kwargs[k]) for k in ("symbol", "timeframe") if kwargs.get(k))
    if not kwargs.get("symbol") and kwargs.get("symbols"):
        where = " ".join(x for x in (symbols_text(kwargs["symbols"]), str(kwargs.get("timeframe") or "")) if x)
    elif not kwargs.get("symbol") and kwargs.get("universe"):
        where = " ".join(str(kwargs[k]) for k in ("universe", "timeframe") if kwargs.get(k))
    return f"Backtest on {where}: {state}" if where else f"Backtest: {state}"


def symbols_text(symbols: Any, shown: int = 3) -> str:
    """``3 symbols (AAA, BBB, CCC)``; longer lists end with ``…``."""
    syms = [str(x) for x in symbols] if isinstance(symbols, (list, tuple)) else [str(symbols)]
    more = "…" if len(syms) > shown else ""
    return f"{len(syms)} symbol{'s' if len(syms) != 1 else ''} ({', '.join(syms[:shown])}{more})"


def describe_run(kwargs: Mapping[str, Any]) -> str:
    """``Backtest on GOOG 1d · 2020-01-01→… · fast.window=5``: the run's label
    (:func:`workbench.runs.labels.run_label`) from the widget's backtest options."""
    from workbench.runs.labels import run_label

    where = run_label({"parameters": dict(kwargs)})
    return f"Backtest on {where}" if where else "Backtest"


# -- run settings: the canvas's ``settings`` and ``series`` keys ---------------------------
#: Keys of the canvas's ``settings`` model key that override the strategy's own settings.
ENGINE_KEYS = ("fees", "slippage", "fill_timing", "initial_cash", "sizing")
FILL_TIMINGS = ("next_open", "close")
SIZING_MODES = ("percent_equity", "fixed_cash", "fixed_units", "risk_percent")


def available_series(*, samples_if_empty: bool = False) -> list[dict[str, Any]]:
    """The cached candle series the settings panel offers (symbol, timeframe, rows, first
    and last bar). With ``samples_if_empty`` an empty cache first gets the shipped samples
    (GOOG 1d, EURUSD 1h), so a fresh notebook's canvas can run at once."""
    from workbench.data.cache import open_cache

    def listed() -> list[dict[str, Any]]:
        cache = open_cache(read_only=True)
        try:
            return [{k: r[k] for k in ("symbol", "timeframe", "rows", "first", "last")}
                    for r in cache.list() if r.get("rows")]
        finally:
            cache.close()

    found = listed()
    if not found and samples_if_empty:
        from workbench.data.samples import load_samples

        cache = open_cache()
        try:
            load_samples(cache)
        finally:
            cache.close()
        found = listed()
    return sorted(found, key=lambda r: (r["symbol"], r["timeframe"]))


def host_series(backtest_kwargs: Mapping[str, Any], *,
                samples_if_empty: bool = False) -> list[dict[str, Any]]:
    """What a host offers: the candles it was given (``candles=`` with ``symbol=`` and
    ``timeframe=``) as the one series, else the cached series."""
    candles = backtest_kwargs.get("candles")
    if candles is None:
        return available_series(samples_if_empty=samples_if_empty)
    from workbench.data.candles import Candles, ns_to_iso, to_ns

    if isinstance(candles, Candles):
        stamps = [int(candles.ts[0]), int(candles.ts[-1])] if len(candles.ts) else []
        rows = len(candles.ts)
    else:
        stamps = [to_ns(candles.index[0]), to_ns(candles.index[-1])] if len(candles) else []
        rows = len(candles)
    return [{"symbol": str(backtest_kwargs.get("symbol") or "candles"),
             "timeframe": str(backtest_kwargs.get("timeframe") or "1d"), "rows": rows,
             "first": ns_to_iso(stamps[0]) if stamps else None,
             "last": ns_to_iso(stamps[1]) if stamps else None}]


def default_settings(series: Sequence[Mapping[str, Any]],
                     given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``given`` with symbol/timeframe filled from the first cached series when unset
    (a universe choice, ``universe`` or ``symbols``, is kept as given)."""
    out = dict(given or {})
    if out.get("universe") or "symbols" in out:
        return out
    if series and not (out.get("symbol") and out.get("timeframe")):
        out.update(symbol=series[0]["symbol"], timeframe=series[0]["timeframe"])
    return out


def _number(settings: Mapping[str, Any], key: str, lo: float, hi: float | None,
            what: str) -> float:
    value = settings[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < lo or (hi is not None and value > hi) \
            or (key == "initial_cash" and value <= 0):
        raise field_error(key, f"{key} must be {what}; got {value!r}.", value=value)
    return float(value)


def _date(settings: Mapping[str, Any], key: str) -> Any:
    import pandas as pd

    text = str(settings.get(key) or "").strip()
    if not text:
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or stamp is pd.NaT:
        raise field_error(key, f"{key} {text!r} is not a date: use YYYY-MM-DD (UTC).", value=text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def available_universes() -> list[dict[str, Any]]:
    """The named universes the settings panel offers (:mod:`workbench.data.universes`):
    ``[{"name", "symbols"}]``; the built-in ``all`` has ``symbols: None`` (every symbol
    cached at the chosen timeframe)."""
    from workbench.data.universes import universe, universe_names

    try:
        return [{"name": n, "symbols": None if n == "all" else universe(n)}
                for n in universe_names()]
    except (WorkbenchError, ValueError):  # an unreadable universes.json: Run names the fault
        return [{"name": "all", "symbols": None}]


def universe_options(settings: Mapping[str, Any],
                     series: Sequence[Mapping[str, Any]] | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A universe choice of the ``settings`` key (``universe`` = a named universe, or
    ``symbols`` = a list of symbols, each ``"SYM"`` or a series key ``"SYM 1d"``, with
    ``timeframe``; a string ``symbols`` is read as :func:`workbench.api.backtest` reads it:
    ``"A,B,C"`` a list, else a universe name) as backtest keywords ``{symbols, timeframe, universe}``, and the cached
    span they cover together (``{"first", "last"}``, None without ``series``).

    Structured errors, each with ``details.field``: ``unknown_universe`` (no such name;
    a suggestion in ``details``), ``mixed_timeframes`` (series keys of more than one
    timeframe), ``unknown_symbol`` (symbols not cached at the timeframe: ``details.missing``).
    """
    from workbench.data.universes import clean_symbols, universe, universe_names

    name = settings.get("universe")
    listed = settings.get("symbols")
    if isinstance(listed, str) and not name:  # as wb.backtest takes it: "A,B,C" or a name
        text = listed
        listed, name = (text.split(","), None) if "," in text else (None, text.strip())
    timeframe = str(settings.get("timeframe") or "").strip()
    if name and listed:
        raise field_error("universe", "Run on a named universe or on picked symbols, not both: "
                          "clear `universe` or `symbols` in Run settings.", code="ambiguous_universe")
    field = "universe" if name else "symbols"
    if name:
        if not isinstance(name, str):
            raise field_error("universe", f"universe must be a name; got {name!r}.", value=repr(name))
        known = universe_names()
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise field_error("universe", f"No universe named {name!r}.{hint} Known: "
                              f"{', '.join(known)} (save one with `wb.save_universe`).",
                              code="unknown_universe", universe=name, known=known,
                              suggestion=close[0] if close else None)
        if not timeframe:
            raise field_error("timeframe", f"Pick the timeframe to run universe {name!r} on.")
        try:
            symbols = universe(name, timeframe)
        except WorkbenchError as exc:
            raise field_error("universe", exc.message, code=exc.code, universe=name) from exc
    else:
        if not isinstance(listed, (list, tuple)):
            raise field_error("symbols", f"symbols must be a list of symbols; got {listed!r}.",
                              value=repr(listed))
        frames: dict[str, list[str]] = {}
        names: list[object] = []
        for entry in listed:
            sym, _, tf = str(entry).strip().partition(" ") if isinstance(entry, str) else (entry, "", "")
            names.append(sym)
            tf = tf.strip() or timeframe
            if tf:
                frames.setdefault(tf, []).append(str(sym))
        if len(frames) > 1 or (timeframe and frames and timeframe not in frames):
            raise field_error("symbols", "A universe runs on one timeframe; the symbols picked are "
                              "at " + ", ".join(f"{tf} ({', '.join(v)})" for tf, v in frames.items())
                              + (f" but the timeframe is {timeframe}" if timeframe else "")
                              + ": pick symbols of one timeframe.", code="mixed_timeframes",
                              timeframes={tf: v for tf, v in frames.items()})
        timeframe = timeframe or next(iter(frames), "")
        if not timeframe:
            raise field_error("timeframe", "Pick the timeframe the symbols are run on.")
        try:
            symbols = clean_symbols(names, "symbols")
        except WorkbenchError as exc:
            raise field_error("symbols", exc.message, code=exc.code) from exc
    info: dict[str, Any] | None = None
    if series is not None:
        cached = {r["symbol"]: r for r in series if r["timeframe"] == timeframe}
        missing = [sym for sym in symbols if sym not in cached]
        if missing:
            have = ", ".join(sorted(cached)) or "none"
            raise field_error(field, f"No cached {timeframe} candles for {', '.join(missing)} (cached "
                              f"at {timeframe}: {have}); import them with `workbench data import`.",
                              code="unknown_symbol", missing=missing, timeframe=timeframe)
        firsts = [str(cached[sym]["first"]) for sym in symbols if cached[sym].get("first")]
        lasts = [str(cached[sym]["last"]) for sym in symbols if cached[sym].get("last")]
        info = {"first": min(firsts) if firsts else None, "last": max(lasts) if lasts else None}
    return {"symbols": symbols, "timeframe": timeframe}, info


def portfolio_options(rules: Any, graph: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:func:`workbench.graph.universe.check_portfolio`: one rule set for every host, the
    HTTP API and paper runs (imported on use: the universe engine is not light)."""
    from workbench.graph.universe import check_portfolio

    return check_portfolio(rules, graph)


def run_options(settings: Mapping[str, Any] | None,
                series: Sequence[Mapping[str, Any]] | None = None,
                graph: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The canvas's ``settings`` key as :func:`workbench.api.backtest` keywords (symbol,
    timeframe, start, end, settings overrides; for a universe ``symbols``, ``universe``
    (the name given, None for a list) and ``portfolio`` rules), checked field by field.

    Raises :class:`ValidationError` with ``details.field`` naming the field at fault, so
    the canvas shows the message beside it; a start or end outside the cached series
    names the cached range. With ``graph``, a ``ranking`` rule must name one of its nodes.
    """
    s = dict(settings or {})
    out: dict[str, Any] = {}
    if s.get("universe") or s.get("symbols") or ("symbols" in s and not s.get("symbol")):
        out, span = universe_options(s, series)
        rules = portfolio_options(s.get("portfolio"), graph)
        out = _range_and_engine(s, out, span, f"{len(out['symbols'])} symbols", out["timeframe"])
        if rules:
            out["portfolio"] = rules
        return out
    if s.get("portfolio"):
        raise field_error("portfolio", "Portfolio rules apply to a universe: run on a named universe "
                          "or picked symbols, or clear the portfolio rules.")
    symbol, timeframe = str(s.get("symbol") or "").strip(), str(s.get("timeframe") or "").strip()
    if not symbol or not timeframe:
        raise field_error("symbol", "Pick the candles to run on (symbol and timeframe) in Run "
                          "settings; `workbench data list` shows what is cached.")
    out.update(symbol=symbol, timeframe=timeframe)
    info: Mapping[str, Any] | None = None
    if series is not None:
        info = next((r for r in series if (r["symbol"], r["timeframe"]) == (symbol, timeframe)),
                    None)
        if info is None:
            cached = ", ".join(f"{r['symbol']} {r['timeframe']}" for r in series) or "nothing"
            raise field_error("symbol", f"No cached candles for {symbol} {timeframe} (cached: "
                              f"{cached}); import them with `workbench data import`.")
    return _range_and_engine(s, out, info, symbol, timeframe)


def _range_and_engine(s: Mapping[str, Any], out: dict[str, Any], info: Mapping[str, Any] | None,
                      symbol: str, timeframe: str) -> dict[str, Any]:
    """The date range (checked against ``info``'s cached span) and the engine overrides."""
    start, end = _date(s, "start"), _date(s, "end")
    if info is not None:
        first, last = _date(info, "first"), _date(info, "last")
        span = f"{str(info['first'])[:10]} to {str(info['last'])[:10]}"
        if start is not None and last is not None and start > last:
            raise field_error("start", f"start {start.date()} is after the last cached bar of "
                              f"{symbol} {timeframe}: the cache holds {span}.", first=info["first"],
                              last=info["last"])
        if end is not None and first is not None and end <= first:
            raise field_error("end", f"end {end.date()} is before the first cached bar of "
                              f"{symbol} {timeframe}: the cache holds {span}.", first=info["first"],
                              last=info["last"])
    if start is not None and end is not None and end <= start:
        raise field_error("end", f"end {end.date()} must come after start {start.date()}.")
    if start is not None:
        out["start"] = start.isoformat()
    if end is not None:
        out["end"] = end.isoformat()
    engine: dict[str, Any] = {}
    if s.get("fees") is not None:
        engine["fees"] = _number(s, "fees", 0, 0.5, "a fraction per side from 0 to 0.5 (50 %)")
    if s.get("slippage") is not None:
        engine["slippage"] = _number(s, "slippage", 0, 0.5,
                                     "a fraction per side from 0 to 0.5 (50 %)")
    if s.get("initial_cash") is not None:
        engine["initial_cash"] = _number(s, "initial_cash", 0, None, "a positive amount")
    if s.get("fill_timing") is not None:
        if s["fill_timing"] not in FILL_TIMINGS:
            raise field_error("fill_timing", f"fill_timing must be one of {', '.join(FILL_TIMINGS)}; "
                              f"got {s['fill_timing']!r}.")
        engine["fill_timing"] = s["fill_timing"]
    sizing = s.get("sizing")
    if sizing is not None:
        if not isinstance(sizing, Mapping) or sizing.get("mode") not in SIZING_MODES:
            raise field_error("sizing", f"sizing mode must be one of {', '.join(SIZING_MODES)}.")
        value = _number({"sizing": sizing.get("value")}, "sizing", 0, None,
                        "a positive number (a fraction for percent modes)")
        if value <= 0 or (sizing["mode"] in ("percent_equity", "risk_percent") and value > 1):
            raise field_error("sizing", "sizing value must be above 0 (and at most 1 = 100 % for "
                              f"percent modes); got {value!r}.")
        engine["sizing"] = {"mode": sizing["mode"], "value": value}
    if engine:
        out["settings"] = engine
    return out


@dataclass
class Outcome:
    """One Run as every host reports it: the Result (None on failure), the canvas's
    ``result`` payload, the toolbar status and the exception, if any."""

    result: Any
    payload: dict[str, Any]
    status: str
    error: BaseException | None = None


#: The canvas ``settings`` keys that choose the candles (the rest override the engine's);
#: ``portfolio`` (a universe's rules) is held there too.
RANGE_KEYS = ("symbol", "timeframe", "start", "end", "symbols", "universe", "portfolio")
#: The keys that choose what to run on: one series (``symbol``) or a universe.
CHOICE_KEYS = ("symbol", "symbols", "universe")


def split_options(settings: Mapping[str, Any] | None, backtest_kwargs: Mapping[str, Any],
                  overrides: Mapping[str, Any] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(canvas settings, other backtest keywords)``: a host's fixed keywords and a call's
    overrides sorted into what the settings panel holds and what it does not (candles=,
    params=)."""
    merged = dict(settings or {})
    extra: dict[str, Any] = {}
    for key, value in {**backtest_kwargs, **(overrides or {})}.items():
        if key in CHOICE_KEYS:  # one series or a universe: a new choice replaces the old
            for other in CHOICE_KEYS:
                if other != key and other not in backtest_kwargs and other not in (overrides or {}):
                    merged.pop(other, None)
            merged[key] = value
        elif key in RANGE_KEYS or key in ENGINE_KEYS:
            merged[key] = value
        elif key == "settings" and isinstance(value, Mapping):
            merged.update({k: v for k, v in value.items() if k in ENGINE_KEYS})
        else:
            extra[key] = value
    return merged, extra


def canvas_run(graph: Mapping[str, Any], settings: Mapping[str, Any] | None,
               series: Sequence[Mapping[str, Any]] | None, *,
               backtest: Callable[..., Any] = run_backtest, **extra: Any) -> Outcome:
    """One Run of the canvas, as every host does it: check the settings, backtest, and
    report. Never raises: the payload carries the message (and the settings field at
    fault), the status says "failed"; the host clears ``busy`` either way."""
    try:
        options = {**run_options(settings, series, graph), **extra}
    except WorkbenchError as exc:
        return Outcome(None, error_payload(exc), "Run settings: failed", exc)
    try:
        result = backtest(dict(graph), **options)
    except Exception as exc:  # noqa: BLE001 - shown on the canvas, re-raised by callers who ask
        return Outcome(None, error_payload(exc), run_status(options, "failed"), exc)
    return Outcome(result, result_payload(result, describe_run(options)),
                   run_status(options, "done"))


def running_status(settings: Mapping[str, Any] | None) -> str:
    return run_status(settings or {}, "running…")
