// Unit tests of the canvas' pure graph rules (node --test; run by tests/canvas too).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addEdge, blockIndex, canonical, connectionProblem, fromGraph, portCompatible, problemsByNode,
  renameNode, toGraph, uniqueId,
} from "../src/graph.js";

const catalog = {
  blocks: [
    { type: "price", inputs: [], outputs: [{ name: "out", type: "series_float" }], params: [] },
    { type: "sma", inputs: [{ name: "series", type: "series_float" }], outputs: [{ name: "out", type: "series_float" }],
      params: [{ name: "window", type: "int", default: 20 }] },
    { type: "constant", inputs: [], outputs: [{ name: "out", type: "scalar" }], params: [] },
    { type: "enter_long", inputs: [{ name: "signal", type: "series_bool" }], outputs: [], params: [] },
  ],
};
const doc = {
  schema: "workbench.strategy/1", name: "t", description: "d",
  nodes: [
    { id: "price", type: "price", params: {}, position: { x: 0, y: 0 } },
    { id: "fast", type: "sma", params: { window: 10 }, position: { x: 200.4, y: 0 }, note: "kept" },
    { id: "k", type: "constant", params: {}, position: { x: 0, y: 100 } },
    { id: "entry", type: "enter_long", params: {}, position: { x: 400, y: 0 } },
  ],
  edges: [{ source: "price", source_port: "out", target: "fast", target_port: "series" }],
  settings: { fees: 0.001, sizing: { mode: "percent_equity", value: 1 } },
  future_key: [1, 2],
};

test("strategy JSON round-trips, keeping settings and unknown keys", () => {
  const back = toGraph(fromGraph(doc));
  assert.deepEqual(back.settings, doc.settings);
  assert.deepEqual(back.future_key, [1, 2]);
  assert.equal(back.nodes[1].note, "kept");
  assert.equal(back.nodes[1].position.x, 200);
  assert.deepEqual(back.edges, doc.edges);
  assert.deepEqual(Object.keys(back).slice(0, 5), ["schema", "name", "description", "nodes", "edges"]);
});

test("port typing follows workbench.blocks.spec.port_compatible", () => {
  assert.ok(portCompatible("series_float", "series_float"));
  assert.ok(portCompatible("series_bool", "series_bool"));
  assert.ok(portCompatible("scalar", "scalar"));
  assert.ok(portCompatible("scalar", "series_float"));
  assert.ok(!portCompatible("series_float", "series_bool"));
  assert.ok(!portCompatible("series_bool", "series_float"));
  assert.ok(!portCompatible("series_float", "scalar"));
});

test("a mismatched connection is refused with a message naming both ports", () => {
  const { nodes } = fromGraph(doc);
  const index = blockIndex(catalog);
  const why = connectionProblem({ source: "price", sourceHandle: "out", target: "entry", targetHandle: "signal" }, nodes, index);
  assert.match(why, /Cannot connect price\.out .* entry\.signal/);
  assert.equal(connectionProblem({ source: "k", sourceHandle: "out", target: "fast", targetHandle: "series" }, nodes, index), null);
  assert.match(connectionProblem({ source: "fast", sourceHandle: "out", target: "fast", targetHandle: "series" }, nodes, index), /itself/);
});

test("an input takes one wire: a new one replaces the old", () => {
  const { edges } = fromGraph(doc);
  const next = addEdge(edges, { source: "k", sourceHandle: "out", target: "fast", targetHandle: "series" });
  assert.equal(next.length, 1);
  assert.equal(next[0].source, "k");
});

test("renaming a block rewires its edges; ids stay unique", () => {
  const state = renameNode(fromGraph(doc), "fast", "quick");
  assert.ok(state.nodes.some((n) => n.id === "quick"));
  assert.equal(state.edges[0].target, "quick");
  assert.equal(uniqueId("sma", new Set(["sma", "sma_2"])), "sma_3");
  assert.equal(uniqueId("sma", new Set()), "sma");
});

test("canonical ignores key order, so an echo of our own write is not a change", () => {
  assert.equal(canonical({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }), canonical({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
  assert.notEqual(canonical({ a: 1 }), canonical({ a: 2 }));
});

test("problems are grouped by node; graph-wide ones under ''", () => {
  const map = problemsByNode([{ node: "fast", code: "x" }, { node: null, code: "y" }, { node: "fast", code: "z" }]);
  assert.equal(map.get("fast").length, 2);
  assert.equal(map.get("").length, 1);
});
