// Unit tests of the run settings checks (one series or a universe) and of where new blocks go (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkField, checkPortfolioField, checkUniverse, effective, effectivePortfolio, rankingNodes, normalizeUniverse, runMode, switchMode, symbolsAt, timeframesOf, toPercentText, universeText,
} from "../src/settings.js";
import { BLOCK_SIZE, clampInto, nextFreeSpot } from "../src/layout.js";

const series = [{ symbol: "GOOG", timeframe: "1d", rows: 2148, first: "2004-08-19T00:00:00Z", last: "2013-03-01T00:00:00Z" }];
const ctx = { settings: { symbol: "GOOG", timeframe: "1d" }, series };

test("a bad date is an error at the field, a good one passes as typed", () => {
  assert.match(checkField("start", "2020-13-45", ctx).error, /not a date/);
  assert.match(checkField("start", "yesterday", ctx).error, /YYYY-MM-DD/);
  assert.deepEqual(checkField("start", "2010-01-04", ctx), { value: "2010-01-04" });
  assert.deepEqual(checkField("end", "", ctx), { value: undefined });
});

test("a start after the cached range names the range (issue 17 item 5)", () => {
  const out = checkField("start", "2020-01-01", ctx);
  assert.match(out.error, /GOOG 1d holds 2004-08-19 to 2013-03-01/);
  assert.match(checkField("end", "2001-01-01", ctx).error, /first cached bar/);
  assert.match(checkField("end", "2009-01-01", { ...ctx, settings: { ...ctx.settings, start: "2010-01-01" } }).error, /after start/);
});

test("fees and slippage are percent in the field and fractions in the settings key", () => {
  assert.deepEqual(checkField("fees", "0.1", ctx), { value: 0.001 });
  assert.deepEqual(checkField("slippage", "0", ctx), { value: 0 });
  assert.match(checkField("fees", "-1", ctx).error, /Between 0 and 50/);
  assert.match(checkField("fees", "abc", ctx).error, /number/);
  assert.equal(toPercentText(0.001), "0.1");
});

test("cash must be positive; percent sizing is 0-100 %, fixed sizing any positive", () => {
  assert.deepEqual(checkField("initial_cash", "25,000", ctx), { value: 25000 });
  assert.match(checkField("initial_cash", "0", ctx).error, /more than 0/);
  assert.deepEqual(checkField("sizing_value", "50", { ...ctx, mode: "percent_equity" }), { value: 0.5 });
  assert.match(checkField("sizing_value", "150", { ...ctx, mode: "percent_equity" }).error, /100/);
  assert.deepEqual(checkField("sizing_value", "150", { ...ctx, mode: "fixed_cash" }), { value: 150 });
});

test("fields show the settings key, else the strategy's settings, else the engine defaults", () => {
  const v = effective({ fees: 0.002 }, { slippage: 0.0005, fill_timing: "close" });
  assert.equal(v.fees, 0.002);
  assert.equal(v.slippage, 0.0005);
  assert.equal(v.fill_timing, "close");
  assert.equal(v.initial_cash, 10000);
  assert.deepEqual(v.sizing, { mode: "percent_equity", value: 1 });
});

test("blocks added one after another take distinct, non-overlapping spots (issue 17 item 16)", () => {
  const area = { x: 0, y: 0, width: 900, height: 500 };
  const nodes = [];
  for (let i = 0; i < 8; i += 1) {
    const position = nextFreeSpot(nodes, area);
    nodes.push({ id: `n${i}`, position });
  }
  const keys = new Set(nodes.map((n) => `${n.position.x},${n.position.y}`));
  assert.equal(keys.size, nodes.length);
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue;
      const apart = Math.abs(a.position.x - b.position.x) >= BLOCK_SIZE.width || Math.abs(a.position.y - b.position.y) >= BLOCK_SIZE.height;
      assert.ok(apart, `${a.id} overlaps ${b.id}`);
    }
  }
  // the visible area holds 4 x 3 blocks: the first ones are inside it
  assert.ok(nodes.slice(0, 8).every((n) => n.position.x + BLOCK_SIZE.width <= area.width && n.position.y + BLOCK_SIZE.height <= area.height));
});

test("a drop at the right edge keeps the whole block in view (issue 17 item 16)", () => {
  const area = { x: -100, y: 50, width: 800, height: 400 };
  const p = clampInto({ x: 690, y: 440 }, area);
  assert.ok(p.x + BLOCK_SIZE.width <= area.x + area.width);
  assert.ok(p.y + BLOCK_SIZE.height <= area.y + area.height);
  assert.deepEqual(clampInto({ x: 10, y: 100 }, area), { x: 10, y: 100 });
});

// -- universes (issue 16) ----------------------------------------------------------------

const many = [
  { symbol: "AAA", timeframe: "1d" }, { symbol: "BBB", timeframe: "1d" },
  { symbol: "CCC", timeframe: "1d" }, { symbol: "DDD", timeframe: "1h" },
];
const universes = [{ name: "all", symbols: null }, { name: "trio", symbols: ["AAA", "BBB", "CCC"] },
  { name: "with_ddd", symbols: ["AAA", "DDD"] }];

test("a named universe stands for its symbols; 'all' for every symbol cached at the timeframe", () => {
  assert.deepEqual(checkUniverse({ universe: "trio", timeframe: "1d" }, many, universes).value,
    { symbols: ["AAA", "BBB", "CCC"], timeframe: "1d" });
  assert.deepEqual(checkUniverse({ universe: "all", timeframe: "1h" }, many, universes).value.symbols, ["DDD"]);
  assert.equal(universeText(["AAA", "BBB", "CCC", "DDD"], "1d"), "4 symbols (AAA, BBB, CCC…) 1d");
});

test("an unknown universe, a symbol not cached at the timeframe, mixed timeframes: errors at the field", () => {
  const unknown = checkUniverse({ universe: "nope", timeframe: "1d" }, many, universes);
  assert.equal(unknown.code, "unknown_universe");
  assert.equal(unknown.field, "universe");
  const missing = checkUniverse({ universe: "with_ddd", timeframe: "1d" }, many, universes);
  assert.equal(missing.code, "unknown_symbol");
  assert.match(missing.error, /No cached 1d candles for DDD/);
  const mixed = checkUniverse({ symbols: ["AAA 1d", "DDD 1h"] }, many, universes);
  assert.equal(mixed.code, "mixed_timeframes");
  assert.equal(mixed.field, "symbols");
  assert.equal(checkUniverse({ symbols: [], timeframe: "1d" }, many, universes).field, "symbols");
  assert.equal(checkUniverse({ universe: "trio", symbols: ["AAA"], timeframe: "1d" }, many, universes).code, "ambiguous_universe");
  assert.deepEqual(checkUniverse({ symbols: ["CCC", "AAA 1d"], timeframe: "1d" }, many, universes).value,
    { symbols: ["CCC", "AAA"], timeframe: "1d" });
  // a host that sends no universes (the Lab document) still knows the built-in "all"
  assert.deepEqual(checkUniverse({ universe: "all", timeframe: "1d" }, many, undefined).value.symbols, ["AAA", "BBB", "CCC"]);
});

test("switching what the settings run on keeps the rest and clears the other choice", () => {
  const base = { symbol: "AAA", timeframe: "1d", fees: 0.002 };
  assert.equal(runMode(base), "series");
  const uni = switchMode(base, "universe", many, universes);
  assert.deepEqual(uni, { timeframe: "1d", fees: 0.002, universe: "all" });
  assert.equal(runMode(uni), "universe");
  const picked = switchMode(uni, "symbols", many, universes);
  assert.deepEqual(picked, { timeframe: "1d", fees: 0.002, symbols: [] });
  assert.equal(runMode(picked), "symbols");
  const back = switchMode(picked, "series", many, universes);
  assert.deepEqual(back, { timeframe: "1d", fees: 0.002, symbol: "AAA" });
  assert.deepEqual(timeframesOf(many), ["1d", "1h"]);
  assert.deepEqual(symbolsAt(many, "1d"), ["AAA", "BBB", "CCC"]);
  // a host's symbols="trio" / "A,B" (as wb.canvas takes them) read as wb.backtest reads them
  assert.deepEqual(normalizeUniverse({ symbols: "trio", timeframe: "1d" }), { universe: "trio", timeframe: "1d" });
  assert.deepEqual(normalizeUniverse({ symbols: "AAA, BBB" }), { symbols: ["AAA", "BBB"] });
});

test("portfolio rules are checked as the host checks them (issue 16)", () => {
  assert.deepEqual(checkPortfolioField("max_positions", "3"), { value: 3 });
  assert.match(checkPortfolioField("max_positions", "2.5").error, /whole number/);
  assert.match(checkPortfolioField("max_positions", "-1").error, /From 0/);
  assert.deepEqual(checkPortfolioField("alloc_value", "10"), { value: 0.1 });
  assert.match(checkPortfolioField("alloc_value", "0").error, /Above 0/);
  assert.match(checkPortfolioField("alloc_value", "150").error, /at most 100/);
  assert.deepEqual(checkPortfolioField("rebalance_every", "20", { allocation: "equal" }), { value: 20 });
  assert.match(checkPortfolioField("rebalance_every", "20", { allocation: "sizing" }).error, /equal weight or fixed fraction/);
  assert.deepEqual(checkPortfolioField("rebalance_every", "0", { allocation: "sizing" }), { value: 0 });
});

test("ranking offers float series and rank blocks; left out, the first rank block ranks", () => {
  const catalog = { blocks: [
    { type: "price", outputs: [{ name: "out", type: "series_float" }] },
    { type: "greater", outputs: [{ name: "out", type: "series_bool" }] },
    { type: "rank", outputs: [] }] };
  const graph = { nodes: [{ id: "p", type: "price" }, { id: "g", type: "greater" }, { id: "mom", type: "rank" }] };
  assert.deepEqual(rankingNodes(graph, catalog), ["p", "mom"]);
  assert.equal(effectivePortfolio({}, graph).ranking, "mom");
  assert.equal(effectivePortfolio({ portfolio: { ranking: null } }, graph).ranking, "");
  assert.equal(effectivePortfolio({ portfolio: { ranking: "p" } }, graph).ranking, "p");
  assert.deepEqual(effectivePortfolio({}, { nodes: [] }),
    { max_positions: 0, allocation: "sizing", alloc_value: 0.1, rebalance_every: 0, ranking: "" });
  // switching back to one series drops the rules (they apply to a universe only)
  const back = switchMode({ universe: "all", timeframe: "1d", portfolio: { max_positions: 2 } }, "series", series, []);
  assert.equal(back.portfolio, undefined);
});
