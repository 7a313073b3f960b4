// The "Run settings" panel: candles (one series, a named universe or picked symbols),
// date range, fees, slippage, fill timing, cash and sizing; for a universe the portfolio
// rules (max open positions, allocation, ranking, rebalancing), written to the host's
// `settings` key. Each field is checked as it is typed
// (settings.js) and the error is shown at the field; an error the host found on Run
// (details.field, e.g. a start outside the cached range) is shown at its field too.
import React, { useEffect, useMemo, useState } from "react";
import { useModelValue, setModel } from "./model.js";
import {
  ALLOCATIONS, FRACTION_ALLOCATIONS, FILL_TIMINGS, SIZING_MODES, checkField, checkUniverse, day, effective, findSeries, isPercentSizing,
  checkPortfolioField, effectivePortfolio, knownUniverses, normalizeUniverse, rankingNodes,
  runMode, seriesKey, sizingText, switchMode, symbolsAt, timeframesOf, toPercentText, universeText,
} from "./settings.js";

const MODES = [["series", "One series"], ["universe", "Named universe"], ["symbols", "Picked symbols"]];

function Field({ name, label, error, children, hint }) {
  return (
    <div className={`wb-field${error ? " wb-field-invalid" : ""}`} data-testid={`settings-field-${name}`}>
      <label htmlFor={`wb-set-${name}`}>{label}</label>
      {children}
      {hint && !error && <span className="wb-field-hint">{hint}</span>}
      {error && <span className="wb-field-error" role="alert" id={`wb-set-${name}-error`} data-testid={`settings-error-${name}`}>{error}</span>}
    </div>
  );
}

export function Settings({ model }) {
  const settings = normalizeUniverse(useModelValue(model, "settings") || {});
  const series = useModelValue(model, "series") || [];
  const universes = knownUniverses(useModelValue(model, "universes"));
  const graph = useModelValue(model, "graph") || {};
  const catalog = useModelValue(model, "catalog");
  const result = useModelValue(model, "result");
  const view = effective(settings, graph.settings);
  const [open, setOpen] = useState(true);
  const [drafts, setDrafts] = useState({});
  const [errors, setErrors] = useState({});
  const hostField = result && result.error && result.field ? result.field : null;
  // the host's error stays at its field until that field is edited
  const [edited, setEdited] = useState({ result: null, keys: [] });
  useEffect(() => { if (hostField) setOpen(true); }, [hostField, result]);

  const text = (name, fallback) => (name in drafts ? drafts[name] : fallback);
  const write = (patch) => {
    const next = { ...settings };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete next[k]; else next[k] = v;
    }
    setModel(model, "settings", next);
  };
  const touch = (key) => setEdited((e) => ({ result, keys: e.result === result ? [...e.keys, key] : [key] }));
  const edit = (name, raw, key = name, extra = {}) => {
    touch(key);
    setDrafts((d) => ({ ...d, [name]: raw }));
    const out = checkField(name, raw, { settings, series, ...extra });
    setErrors((e) => ({ ...e, [name]: out.error || null }));
    // A bad value is written as typed: the host refuses it on Run with the same field named.
    const value = out.error ? raw : out.value;
    if (key === "sizing") write({ sizing: { ...view.sizing, value } });
    else write({ [key]: value });
  };
  const errorOf = (name, key = name) => errors[name]
    || (hostField === key && !(edited.result === result && edited.keys.includes(key)) ? result.error : null);

  const current = findSeries(series, view.symbol, view.timeframe);
  const options = useMemo(() => series.map((s) => ({ key: seriesKey(s), s })), [series]);
  const pickSeries = (key) => {
    const hit = options.find((o) => o.key === key);
    if (!hit) return;
    touch("symbol");
    write({ symbol: hit.s.symbol, timeframe: hit.s.timeframe });
    // the dates are checked again against the newly chosen series
    for (const name of ["start", "end"]) {
      const raw = text(name, settings[name] || "");
      const out = checkField(name, raw, { settings: { ...settings, symbol: hit.s.symbol, timeframe: hit.s.timeframe }, series });
      setErrors((e) => ({ ...e, [name]: out.error || null }));
    }
  };
  const mode = runMode(settings);
  const picked = mode === "series" ? null : checkUniverse(settings, series, universes);
  const pickedText = picked && picked.value ? universeText(picked.value.symbols, picked.value.timeframe) : "";
  const universeError = picked && picked.error ? picked.error : null;
  const setMode = (m) => {
    touch(m === "series" ? "symbol" : m);
    setModel(model, "settings", switchMode(settings, m, series, universes));
  };
  const rules = effectivePortfolio(settings, graph);
  const rankers = rankingNodes(graph, catalog);
  const writeRules = (patch) => {
    const next = { ...(settings.portfolio || {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete next[k]; else next[k] = v;
    }
    write({ portfolio: next });
  };
  const editRule = (name, raw, extra = {}) => {
    touch(name);
    setDrafts((d) => ({ ...d, [name]: raw }));
    const out = checkPortfolioField(name, raw, { allocation: rules.allocation, ...extra });
    setErrors((e) => ({ ...e, [name]: out.error || null }));
    writeRules({ [name]: out.error ? raw : out.value });
  };
  const pickAllocation = (allocation) => {
    touch("allocation");
    const patch = { allocation };
    if (FRACTION_ALLOCATIONS.has(allocation) && (settings.portfolio || {}).alloc_value == null) patch.alloc_value = rules.alloc_value;
    // the rebalance field is checked again against the new allocation (a value refused
    // before, written as typed, is written as a number once it passes)
    const raw = text("rebalance_every", String(rules.rebalance_every));
    const out = checkPortfolioField("rebalance_every", raw, { allocation });
    setErrors((e) => ({ ...e, rebalance_every: out.error || null }));
    if ((settings.portfolio || {}).rebalance_every !== undefined) patch.rebalance_every = out.error ? raw : out.value;
    writeRules(patch);
  };
  const summary = [(mode === "series" ? seriesKey(view) : pickedText) || "no candles", `fees ${toPercentText(view.fees)} %`,
    view.fill_timing === "close" ? "fill at close" : "fill next open"].join(" · ");

  return (
    <section className="wb-settings" aria-label="Run settings" data-testid="settings">
      <button type="button" className="wb-settings-toggle" aria-expanded={open ? "true" : "false"}
        onClick={() => setOpen(!open)} data-testid="settings-toggle">
        <span aria-hidden="true">{open ? "▾" : "▸"}</span> Run settings
      </button>
      {!open && <p className="wb-muted wb-settings-summary" data-testid="settings-summary">{summary}</p>}
      {open && (
        <div className="wb-settings-body">
          <Field name="mode" label="Run on">
            <select id="wb-set-mode" value={mode} onChange={(e) => setMode(e.target.value)} data-testid="settings-mode">
              {MODES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </Field>
          {mode === "series" && (
          <Field name="symbol" label="Candles" error={errorOf("symbol")}
            hint={current ? `${day(current.first)} → ${day(current.last)} · ${Number(current.rows || 0).toLocaleString("en-US")} bars` : (series.length ? "" : "No candles cached: import some first.")}>
            <select id="wb-set-symbol" value={seriesKey(view)} onChange={(e) => pickSeries(e.target.value)} data-testid="settings-series">
              {!current && <option value={seriesKey(view)}>{seriesKey(view) || "(choose)"}</option>}
              {options.map((o) => <option key={o.key} value={o.key}>{o.key}</option>)}
            </select>
          </Field>
          )}
          {mode !== "series" && (
          <Field name="timeframe" label="Timeframe" error={errorOf("timeframe")}>
            <select id="wb-set-timeframe" value={view.timeframe} data-testid="settings-timeframe"
              onChange={(e) => {
                touch("timeframe");
                const tf = e.target.value;
                const keep = mode === "symbols" ? { symbols: (settings.symbols || []).filter((x) => symbolsAt(series, tf).includes(String(x).split(" ")[0])).map((x) => String(x).split(" ")[0]) } : {};
                write({ timeframe: tf, ...keep });
              }}>
              {!view.timeframe && <option value="">(choose)</option>}
              {timeframesOf(series).map((tf) => <option key={tf} value={tf}>{tf}</option>)}
            </select>
          </Field>
          )}
          {mode === "universe" && (
          <Field name="universe" label="Universe" error={errorOf("universe") || universeError}
            hint={pickedText}>
            <select id="wb-set-universe" value={settings.universe || ""} data-testid="settings-universe"
              aria-invalid={errorOf("universe") || universeError ? "true" : "false"}
              onChange={(e) => { touch("universe"); write({ universe: e.target.value }); }}>
              {!universes.some((u) => u.name === settings.universe) && <option value={settings.universe || ""}>{settings.universe || "(choose)"}</option>}
              {universes.map((u) => <option key={u.name} value={u.name}>{u.symbols ? `${u.name} (${u.symbols.length})` : `${u.name} (every cached symbol)`}</option>)}
            </select>
          </Field>
          )}
          {mode === "symbols" && (
          <Field name="symbols" label="Symbols (Ctrl/Shift-click for several)" error={errorOf("symbols") || universeError}
            hint={pickedText}>
            <select id="wb-set-symbols" multiple size={Math.min(6, Math.max(2, symbolsAt(series, view.timeframe).length))}
              value={(settings.symbols || []).map((x) => String(x).split(" ")[0])} data-testid="settings-symbols"
              aria-invalid={errorOf("symbols") || universeError ? "true" : "false"}
              onChange={(e) => { touch("symbols"); write({ symbols: Array.from(e.target.selectedOptions).map((o) => o.value) }); }}>
              {symbolsAt(series, view.timeframe).map((sym) => <option key={sym} value={sym}>{sym}</option>)}
            </select>
          </Field>
          )}
          {mode !== "series" && (
          <fieldset className="wb-portfolio" data-testid="settings-portfolio">
            <legend>Portfolio rules</legend>
            {errorOf("portfolio") && <span className="wb-field-error" role="alert" data-testid="settings-error-portfolio">{errorOf("portfolio")}</span>}
            <div className="wb-field-row">
              <Field name="max_positions" label="Max open positions" error={errorOf("max_positions")} hint="0 = no limit">
                <input id="wb-set-max_positions" type="text" inputMode="numeric" value={text("max_positions", String(rules.max_positions))}
                  aria-invalid={errorOf("max_positions") ? "true" : "false"}
                  onChange={(e) => editRule("max_positions", e.target.value)} data-testid="settings-max-positions" />
              </Field>
              <Field name="rebalance_every" label="Rebalance every (bars)" error={errorOf("rebalance_every")} hint="0 = never">
                <input id="wb-set-rebalance_every" type="text" inputMode="numeric" value={text("rebalance_every", String(rules.rebalance_every))}
                  aria-invalid={errorOf("rebalance_every") ? "true" : "false"}
                  onChange={(e) => editRule("rebalance_every", e.target.value)} data-testid="settings-rebalance" />
              </Field>
            </div>
            <div className="wb-field-row">
              <Field name="allocation" label="Allocation" error={errorOf("allocation")}>
                <select id="wb-set-allocation" value={rules.allocation} data-testid="settings-allocation"
                  onChange={(e) => pickAllocation(e.target.value)}>
                  {ALLOCATIONS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                </select>
              </Field>
              {FRACTION_ALLOCATIONS.has(rules.allocation) && (
              <Field name="alloc_value" label={rules.allocation === "risk" ? "Risk % / entry" : "% of equity / entry"} error={errorOf("alloc_value")}>
                <input id="wb-set-alloc_value" type="text" inputMode="decimal" value={text("alloc_value", toPercentText(rules.alloc_value))}
                  aria-invalid={errorOf("alloc_value") ? "true" : "false"}
                  onChange={(e) => editRule("alloc_value", e.target.value)} data-testid="settings-alloc-value" />
              </Field>
              )}
            </div>
            <Field name="ranking" label="Ranking (when entries outnumber free slots)" error={errorOf("ranking")}>
              <select id="wb-set-ranking" value={rules.ranking} data-testid="settings-ranking"
                aria-invalid={errorOf("ranking") ? "true" : "false"}
                onChange={(e) => { touch("ranking"); writeRules({ ranking: e.target.value || null }); }}>
                <option value="">None (symbol order)</option>
                {rules.ranking && !rankers.includes(rules.ranking) && <option value={rules.ranking}>{rules.ranking} (not in the graph)</option>}
                {rankers.map((id) => <option key={id} value={id}>{id}</option>)}
              </select>
            </Field>
          </fieldset>
          )}
          <div className="wb-field-row">
            <Field name="start" label="Start (UTC)" error={errorOf("start")}>
              <input id="wb-set-start" type="text" inputMode="numeric" value={text("start", day(settings.start))}
                placeholder={current ? day(current.first) : "YYYY-MM-DD"} aria-invalid={errorOf("start") ? "true" : "false"}
                onChange={(e) => edit("start", e.target.value)} data-testid="settings-start" />
            </Field>
            <Field name="end" label="End (UTC)" error={errorOf("end")}>
              <input id="wb-set-end" type="text" inputMode="numeric" value={text("end", day(settings.end))}
                placeholder={current ? day(current.last) : "YYYY-MM-DD"} aria-invalid={errorOf("end") ? "true" : "false"}
                onChange={(e) => edit("end", e.target.value)} data-testid="settings-end" />
            </Field>
          </div>
          <div className="wb-field-row">
            <Field name="fees" label="Fees % / side" error={errorOf("fees")}>
              <input id="wb-set-fees" type="text" inputMode="decimal" value={text("fees", toPercentText(view.fees))}
                aria-invalid={errorOf("fees") ? "true" : "false"} onChange={(e) => edit("fees", e.target.value)} data-testid="settings-fees" />
            </Field>
            <Field name="slippage" label="Slippage %" error={errorOf("slippage")}>
              <input id="wb-set-slippage" type="text" inputMode="decimal" value={text("slippage", toPercentText(view.slippage))}
                aria-invalid={errorOf("slippage") ? "true" : "false"} onChange={(e) => edit("slippage", e.target.value)} data-testid="settings-slippage" />
            </Field>
          </div>
          <Field name="fill_timing" label="Fill at" error={errorOf("fill_timing")}>
            <select id="wb-set-fill_timing" value={view.fill_timing} onChange={(e) => { touch("fill_timing"); write({ fill_timing: e.target.value }); }} data-testid="settings-fill">
              {FILL_TIMINGS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </Field>
          <Field name="initial_cash" label="Initial cash" error={errorOf("initial_cash")}>
            <input id="wb-set-initial_cash" type="text" inputMode="decimal" value={text("initial_cash", String(view.initial_cash))}
              aria-invalid={errorOf("initial_cash") ? "true" : "false"} onChange={(e) => edit("initial_cash", e.target.value)} data-testid="settings-cash" />
          </Field>
          <div className="wb-field-row">
            <Field name="sizing_mode" label="Sizing">
              <select id="wb-set-sizing_mode" value={view.sizing.mode} data-testid="settings-sizing-mode"
                onChange={(e) => {
                  const mode = e.target.value;
                  const value = isPercentSizing(mode) === isPercentSizing(view.sizing.mode) ? view.sizing.value : (isPercentSizing(mode) ? 1 : 1000);
                  setDrafts((d) => { const n = { ...d }; delete n.sizing_value; return n; });
                  setErrors((er) => ({ ...er, sizing_value: null }));
                  touch("sizing");
                  write({ sizing: { mode, value } });
                }}>
                {SIZING_MODES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
              </select>
            </Field>
            <Field name="sizing_value" label={isPercentSizing(view.sizing.mode) ? "Size %" : "Size"} error={errorOf("sizing_value", "sizing")}>
              <input id="wb-set-sizing_value" type="text" inputMode="decimal" value={text("sizing_value", sizingText(view.sizing))}
                aria-invalid={errorOf("sizing_value", "sizing") ? "true" : "false"}
                onChange={(e) => edit("sizing_value", e.target.value, "sizing", { mode: view.sizing.mode })} data-testid="settings-sizing-value" />
            </Field>
          </div>
        </div>
      )}
    </section>
  );
}
