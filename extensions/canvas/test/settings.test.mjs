// Unit tests of the run settings checks and of where new blocks go (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkField, effective, toPercentText } from "../src/settings.js";
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
