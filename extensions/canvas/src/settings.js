// Run settings: the canvas's `settings` model key (symbol, timeframe, start, end, fees,
// slippage, fill_timing, initial_cash, sizing; or, for a universe backtest, `universe` (a
// named universe from the host's `universes` key) or `symbols` (picked cached symbols)
// with `timeframe`). Pure functions, so every host checks a
// field the same way before its Python side checks it again (workbench/widgets/host.py).

// The engine's defaults (workbench.graph.models.Settings) when neither the settings key
// nor the strategy's own `settings` say otherwise.
export const ENGINE_DEFAULTS = {
  fees: 0.001, slippage: 0, fill_timing: "next_open", initial_cash: 10000,
  sizing: { mode: "percent_equity", value: 1 },
};
export const FILL_TIMINGS = [["next_open", "Next bar's open"], ["close", "Signal bar's close"]];
export const SIZING_MODES = [
  ["percent_equity", "% of equity"], ["fixed_cash", "Fixed cash"],
  ["fixed_units", "Fixed units"], ["risk_percent", "% risked to stop"],
];
const PERCENT_SIZING = new Set(["percent_equity", "risk_percent"]);

export function seriesKey(s) {
  return s && s.symbol && s.timeframe ? `${s.symbol} ${s.timeframe}` : "";
}

export function findSeries(series, symbol, timeframe) {
  return (series || []).find((s) => s.symbol === symbol && s.timeframe === timeframe) || null;
}

export function day(iso) {
  return iso ? String(iso).slice(0, 10) : "";
}

// What the fields show: the settings key, else the strategy's settings, else defaults.
export function effective(settings, graphSettings) {
  const s = settings || {};
  const g = graphSettings || {};
  const pick = (k) => (s[k] != null ? s[k] : g[k] != null ? g[k] : ENGINE_DEFAULTS[k]);
  const sizing = { ...ENGINE_DEFAULTS.sizing, ...(g.sizing || {}), ...(s.sizing || {}) };
  return {
    symbol: s.symbol || "", timeframe: s.timeframe || "", start: s.start || "", end: s.end || "",
    universe: s.universe || "", symbols: Array.isArray(s.symbols) ? s.symbols : [],
    fees: pick("fees"), slippage: pick("slippage"), fill_timing: pick("fill_timing"),
    initial_cash: pick("initial_cash"), sizing,
  };
}

// A fraction as the percent text a field shows (0.001 -> "0.1").
export function toPercentText(fraction) {
  if (fraction == null || !Number.isFinite(Number(fraction))) return "";
  return String(Number((Number(fraction) * 100).toPrecision(10)));
}

function parseDate(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const t = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === text ? t : null;
}

// Check one field's text. Returns {value} (what goes into the settings key; undefined
// clears it) or {error} (shown at the field). `ctx` = {settings, series}.
export function checkField(name, text, ctx = {}) {
  const raw = String(text ?? "").trim();
  const settings = ctx.settings || {};
  if (name === "start" || name === "end") {
    if (!raw) return { value: undefined };
    const t = parseDate(raw);
    if (t == null) return { error: `"${raw}" is not a date: use YYYY-MM-DD.` };
    const info = findSeries(ctx.series, settings.symbol, settings.timeframe);
    if (info && info.first && info.last) {
      const span = `${day(info.first)} to ${day(info.last)}`;
      if (name === "start" && t > Date.parse(info.last)) {
        return { error: `After the last cached bar: ${seriesKey(info)} holds ${span}.` };
      }
      if (name === "end" && t <= Date.parse(info.first)) {
        return { error: `Before the first cached bar: ${seriesKey(info)} holds ${span}.` };
      }
    }
    const other = name === "start" ? settings.end : settings.start;
    const o = other ? parseDate(String(other).slice(0, 10)) : null;
    if (o != null && (name === "start" ? t >= o : t <= o)) {
      return { error: name === "start" ? "Start must come before end." : "End must come after start." };
    }
    return { value: raw };
  }
  if (name === "fees" || name === "slippage") {
    const n = Number(raw);
    if (!raw || !Number.isFinite(n)) return { error: "Enter a number (percent per side)." };
    if (n < 0 || n > 50) return { error: "Between 0 and 50 %." };
    return { value: Number((n / 100).toPrecision(12)) };
  }
  if (name === "initial_cash") {
    const n = Number(raw.replace(/,/g, ""));
    if (!raw || !Number.isFinite(n)) return { error: "Enter an amount." };
    if (n <= 0) return { error: "Must be more than 0." };
    return { value: n };
  }
  if (name === "sizing_value") {
    const mode = (ctx.mode || (settings.sizing && settings.sizing.mode) || "percent_equity");
    const n = Number(raw);
    if (!raw || !Number.isFinite(n)) return { error: "Enter a number." };
    if (PERCENT_SIZING.has(mode)) {
      if (n <= 0 || n > 100) return { error: "Above 0 and at most 100 %." };
      return { value: Number((n / 100).toPrecision(12)) };
    }
    if (n <= 0) return { error: "Must be more than 0." };
    return { value: n };
  }
  return { value: raw || undefined };
}

// -- portfolio rules (a universe run): the `portfolio` object of the settings key ---------
// Names and ranges as wb.backtest(symbols=..., portfolio=...) takes them
// (workbench/graph/universe.py; checked again by host.py portfolio_options).
export const ALLOCATIONS = [
  ["sizing", "Strategy's sizing"], ["equal", "Equal weight"],
  ["fixed_fraction", "Fixed fraction of equity"], ["risk", "Risk to the stop"],
];
export const FRACTION_ALLOCATIONS = new Set(["fixed_fraction", "risk"]);
export const REBALANCE_ALLOCATIONS = new Set(["equal", "fixed_fraction"]);
export const MAX_POSITIONS = 10000;
export const MAX_REBALANCE = 1000000;

// Node ids of the graph that can rank entries: rank blocks and blocks with a float series.
export function rankingNodes(graph, catalog) {
  const blocks = new Map(((catalog && catalog.blocks) || []).map((b) => [b.type, b]));
  return ((graph && graph.nodes) || []).filter((n) => {
    const b = blocks.get(n.type);
    return b && (b.type === "rank" || (b.outputs || []).some((o) => o.type === "series_float"));
  }).map((n) => n.id);
}

// The rules the fields show: the settings' own, else the engine's defaults; `ranking`
// left out means the graph's first rank block ("" = none: symbol order).
export function effectivePortfolio(settings, graph) {
  const p = (settings && settings.portfolio) || {};
  const firstRank = (((graph && graph.nodes) || []).find((n) => n.type === "rank") || {}).id || "";
  return {
    max_positions: p.max_positions != null ? p.max_positions : 0,
    allocation: p.allocation || "sizing",
    alloc_value: p.alloc_value != null ? p.alloc_value : 0.1,
    rebalance_every: p.rebalance_every != null ? p.rebalance_every : 0,
    ranking: "ranking" in p ? (p.ranking || "") : firstRank,
  };
}

// Check one portfolio field's text: {value} or {error}, as checkField does.
export function checkPortfolioField(name, text, ctx = {}) {
  const raw = String(text ?? "").trim();
  if (name === "max_positions" || name === "rebalance_every") {
    const hi = name === "max_positions" ? MAX_POSITIONS : MAX_REBALANCE;
    const n = Number(raw);
    if (!raw || !Number.isInteger(n)) return { error: "Enter a whole number." };
    if (n < 0 || n > hi) return { error: `From 0 to ${hi.toLocaleString("en-US")} (0 = ${name === "max_positions" ? "no limit" : "never"}).` };
    if (name === "rebalance_every" && n > 0 && !REBALANCE_ALLOCATIONS.has(ctx.allocation)) {
      return { error: "Rebalancing needs equal weight or fixed fraction allocation." };
    }
    return { value: n };
  }
  if (name === "alloc_value") {
    const n = Number(raw);
    if (!raw || !Number.isFinite(n)) return { error: "Enter a number (percent of equity)." };
    if (n <= 0 || n > 100) return { error: "Above 0 and at most 100 %." };
    return { value: Number((n / 100).toPrecision(12)) };
  }
  return { value: raw || undefined };
}

export function sizingText(sizing) {
  if (!sizing) return "";
  return PERCENT_SIZING.has(sizing.mode) ? toPercentText(sizing.value) : String(sizing.value ?? "");
}

export function isPercentSizing(mode) {
  return PERCENT_SIZING.has(mode);
}

// -- universes ----------------------------------------------------------------------------
// `symbols` given as text (a host's `symbols="trio"` or "A,B"), read as wb.backtest reads
// it: a list when it has commas, else a universe name. Other settings are returned as is.
export function normalizeUniverse(settings) {
  const s = settings || {};
  if (typeof s.symbols !== "string" || s.universe) return s;
  const { symbols, ...rest } = s;
  return symbols.includes(",")
    ? { ...rest, symbols: symbols.split(",").map((x) => x.trim()).filter(Boolean) }
    : { ...rest, universe: symbols.trim() };
}

// What the settings run on: "series" (one symbol), "universe" (a named one) or "symbols".
export function runMode(settings) {
  const s = settings || {};
  if (s.universe) return "universe";
  if (Array.isArray(s.symbols) && s.symbols.length) return "symbols";
  if (s.symbols !== undefined && s.symbol === undefined) return "symbols"; // picking, none yet
  return "series";
}

export function timeframesOf(series) {
  return [...new Set((series || []).map((s) => s.timeframe))].sort();
}

export function symbolsAt(series, timeframe) {
  return (series || []).filter((s) => s.timeframe === timeframe).map((s) => s.symbol).sort();
}

// The host's `universes`, with the built-in "all" (every symbol cached at the timeframe)
// even from a host that sends none (the Lab document).
export function knownUniverses(universes) {
  const list = Array.isArray(universes) ? universes : [];
  return list.some((u) => u.name === "all") ? list : [{ name: "all", symbols: null }, ...list];
}

// The settings key after switching to `mode` (keeps fees, dates, ...; the timeframe stays).
export function switchMode(settings, mode, series, universes) {
  const next = { ...(settings || {}) };
  const timeframe = next.timeframe || timeframesOf(series)[0] || "";
  delete next.universe; delete next.symbols;
  if (mode === "series") {
    delete next.portfolio; // portfolio rules apply to a universe only
    const first = (series || []).find((s) => s.timeframe === timeframe) || (series || [])[0];
    if (!next.symbol && first) { next.symbol = first.symbol; next.timeframe = first.timeframe; }
    return next;
  }
  delete next.symbol;
  next.timeframe = timeframe;
  if (mode === "universe") next.universe = ((universes || [])[0] || { name: "all" }).name;
  else next.symbols = [];
  return next;
}

// The symbols a universe choice stands for, checked as the host checks them on Run
// (workbench/widgets/host.py universe_options): {value: {symbols, timeframe}} or
// {error, field, code}.
export function checkUniverse(settings, series, universes) {
  const s = settings || {};
  let timeframe = String(s.timeframe || "").trim();
  const atTf = (tf) => new Set(symbolsAt(series, tf));
  let symbols;
  let field = "symbols";
  if (s.universe && Array.isArray(s.symbols) && s.symbols.length) {
    return { field: "universe", code: "ambiguous_universe", error: "A named universe or picked symbols, not both." };
  }
  if (s.universe) {
    field = "universe";
    const all = knownUniverses(universes);
    const known = all.map((u) => u.name);
    const hit = all.find((u) => u.name === s.universe);
    if (!hit) {
      return { field, code: "unknown_universe", error: `No universe named "${s.universe}". Known: ${known.join(", ") || "none"}.` };
    }
    if (!timeframe) return { field: "timeframe", error: "Pick the timeframe to run the universe on." };
    symbols = hit.symbols == null ? [...atTf(timeframe)] : [...hit.symbols];
    if (!symbols.length) return { field, code: "unknown_symbol", error: `No symbols cached at ${timeframe}: import some first.` };
  } else {
    const frames = {};
    symbols = [];
    for (const entry of s.symbols || []) {
      const [sym, tf] = String(entry).trim().split(/\s+/, 2);
      const t = tf || timeframe;
      if (t) (frames[t] = frames[t] || []).push(sym);
      if (sym && !symbols.includes(sym)) symbols.push(sym);
    }
    const tfs = Object.keys(frames);
    if (tfs.length > 1 || (timeframe && tfs.length && !tfs.includes(timeframe))) {
      return { field, code: "mixed_timeframes", error: `A universe runs on one timeframe; picked: ${tfs.map((t) => `${t} (${frames[t].join(", ")})`).join(", ")}.` };
    }
    timeframe = timeframe || tfs[0] || "";
    if (!symbols.length) return { field, error: "Pick at least one symbol." };
    if (!timeframe) return { field: "timeframe", error: "Pick the timeframe the symbols run on." };
  }
  const have = atTf(timeframe);
  const missing = symbols.filter((x) => !have.has(x));
  if (missing.length) {
    return { field, code: "unknown_symbol", error: `No cached ${timeframe} candles for ${missing.join(", ")}.` };
  }
  return { value: { symbols, timeframe } };
}

// "3 symbols (AAA, BBB, CCC) 1d", as the host's status line words it.
export function universeText(symbols, timeframe) {
  const syms = symbols || [];
  const head = syms.slice(0, 3).join(", ") + (syms.length > 3 ? "…" : "");
  return `${syms.length} symbol${syms.length === 1 ? "" : "s"} (${head})${timeframe ? ` ${timeframe}` : ""}`;
}
