// Run settings: the canvas's `settings` model key (symbol, timeframe, start, end, fees,
// slippage, fill_timing, initial_cash, sizing). Pure functions, so every host checks a
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

export function sizingText(sizing) {
  if (!sizing) return "";
  return PERCENT_SIZING.has(sizing.mode) ? toPercentText(sizing.value) : String(sizing.value ?? "");
}

export function isPercentSizing(mode) {
  return PERCENT_SIZING.has(mode);
}
