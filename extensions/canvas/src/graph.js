// Strategy JSON <-> React Flow state, port typing, ids. No React in here: pure functions,
// so the rules are easy to read and the same in every host.

export const SCHEMA = "workbench.strategy/1";

// Mirrors workbench.blocks.spec.port_compatible: a scalar broadcasts into a float
// series (close > 30); nothing else converts (a bool series never becomes 0/1 maths).
export function portCompatible(sourceType, targetType) {
  return sourceType === targetType || (sourceType === "scalar" && targetType === "series_float");
}

export const PORT_LABELS = {
  series_float: "number series",
  series_bool: "true/false series",
  scalar: "single number",
};

export function blockIndex(catalog) {
  const index = new Map();
  for (const b of (catalog && catalog.blocks) || []) index.set(b.type, b);
  return index;
}

export function defaultParams(spec) {
  const params = {};
  for (const p of (spec && spec.params) || []) params[p.name] = p.default;
  return params;
}

export function uniqueId(base, taken) {
  const clean = String(base).replace(/[^A-Za-z0-9_]/g, "_") || "block";
  if (!taken.has(clean)) return clean;
  let n = 2;
  while (taken.has(`${clean}_${n}`)) n += 1;
  return `${clean}_${n}`;
}

export function edgeId(e) {
  return `${e.source}.${e.sourceHandle}->${e.target}.${e.targetHandle}`;
}

// Strategy JSON -> {nodes, edges, meta}; meta keeps every other top-level key
// (schema, name, description, settings, anything newer) so nothing is lost.
export function fromGraph(graph) {
  const g = graph || {};
  const meta = {};
  for (const [k, v] of Object.entries(g)) if (k !== "nodes" && k !== "edges") meta[k] = v;
  if (!meta.schema) meta.schema = SCHEMA;
  const nodes = (g.nodes || []).map((n, i) => ({
    id: String(n.id),
    type: "block",
    position: {
      x: Number((n.position && n.position.x) ?? 40 + 220 * (i % 4)),
      y: Number((n.position && n.position.y) ?? 40 + 160 * Math.floor(i / 4)),
    },
    data: { blockType: n.type, params: { ...(n.params || {}) }, extra: extraKeys(n, ["id", "type", "params", "position"]) },
  }));
  const edges = (g.edges || []).map((e) => {
    const rf = { source: String(e.source), sourceHandle: e.source_port, target: String(e.target), targetHandle: e.target_port };
    return { ...rf, id: edgeId(rf) };
  });
  return { nodes, edges, meta };
}

function extraKeys(obj, known) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) out[k] = v;
  return out;
}

// {nodes, edges, meta} -> strategy JSON, in the contract's key order.
export function toGraph(state) {
  const { nodes, edges, meta } = state;
  const head = { schema: meta.schema || SCHEMA };
  if ("name" in meta) head.name = meta.name;
  if ("description" in meta) head.description = meta.description;
  const out = {
    ...head,
    nodes: nodes.map((n) => ({
      id: n.id,
      type: n.data.blockType,
      params: { ...n.data.params },
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      ...(n.data.extra || {}),
    })),
    edges: edges.map((e) => ({ source: e.source, source_port: e.sourceHandle, target: e.target, target_port: e.targetHandle })),
  };
  for (const [k, v] of Object.entries(meta)) if (!(k in out)) out[k] = v;
  return out;
}

// Stable stringify (sorted keys) to tell a real change from an echo of our own write.
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
}

// Why a connection from (node, output port) to (node, input port) is refused, or null.
export function connectionProblem(conn, nodes, index) {
  if (!conn || !conn.source || !conn.target) return "Connect an output (right side) to an input (left side).";
  if (conn.source === conn.target) return "A block cannot feed itself.";
  const src = nodes.find((n) => n.id === conn.source);
  const dst = nodes.find((n) => n.id === conn.target);
  const sSpec = src && index.get(src.data.blockType);
  const tSpec = dst && index.get(dst.data.blockType);
  const sPort = sSpec && sSpec.outputs.find((p) => p.name === conn.sourceHandle);
  const tPort = tSpec && tSpec.inputs.find((p) => p.name === conn.targetHandle);
  if (!sPort || !tPort) return "Connect an output (right side) to an input (left side).";
  if (!portCompatible(sPort.type, tPort.type)) {
    return `Cannot connect ${conn.source}.${sPort.name} (${PORT_LABELS[sPort.type] || sPort.type}) to ` +
      `${conn.target}.${tPort.name}, which takes a ${PORT_LABELS[tPort.type] || tPort.type}.`;
  }
  return null;
}

// Add an edge; an input takes one edge, so a new one replaces the old.
export function addEdge(edges, conn) {
  const kept = edges.filter((e) => !(e.target === conn.target && e.targetHandle === conn.targetHandle));
  const rf = { source: conn.source, sourceHandle: conn.sourceHandle, target: conn.target, targetHandle: conn.targetHandle };
  return [...kept, { ...rf, id: edgeId(rf) }];
}

export function renameNode(state, oldId, newId) {
  const nodes = state.nodes.map((n) => (n.id === oldId ? { ...n, id: newId } : n));
  const edges = state.edges.map((e) => {
    const r = { ...e, source: e.source === oldId ? newId : e.source, target: e.target === oldId ? newId : e.target };
    return { ...r, id: edgeId(r) };
  });
  return { ...state, nodes, edges };
}

export function problemsByNode(problems) {
  const map = new Map();
  for (const p of problems || []) {
    const key = p.node == null ? "" : String(p.node);
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(p);
  }
  return map;
}
