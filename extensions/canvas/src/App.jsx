// The canvas: palette | flow | results, with a toolbar. State lives here; every committed
// change is written to the host's `graph` key as strategy JSON and recorded for undo.
import React, { createContext, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlow, ReactFlowProvider, Background, Controls, applyNodeChanges, applyEdgeChanges, useReactFlow } from "@xyflow/react";
import {
  addEdge, blockIndex, canonical, connectionProblem, defaultParams, fromGraph, problemsByNode,
  renameNode, toGraph, uniqueId,
} from "./graph.js";
import { useModelValue, setModel } from "./model.js";
import { BlockNode } from "./BlockNode.jsx";
import { Palette } from "./Palette.jsx";
import { Toolbar } from "./Toolbar.jsx";
import { Results } from "./Results.jsx";
import { Settings } from "./Settings.jsx";
import { clampInto, nextFreeSpot } from "./layout.js";

export const CanvasContext = createContext(null);
const nodeTypes = { block: BlockNode };
const HISTORY_LIMIT = 200;
const BLOCK_MIME = "application/x-workbench-block";

export function App({ model }) {
  return (
    <ReactFlowProvider>
      <Canvas model={model} />
    </ReactFlowProvider>
  );
}

function Canvas({ model }) {
  const catalog = useModelValue(model, "catalog");
  const problems = useModelValue(model, "problems");
  const readonly = !!useModelValue(model, "readonly");
  const index = useMemo(() => blockIndex(catalog), [catalog]);
  const flow = useReactFlow();

  const initial = useMemo(() => fromGraph(model.get("graph")), []); // eslint-disable-line
  const [nodes, setNodes] = useState(initial.nodes);
  const [edges, setEdges] = useState(initial.edges);
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  const metaRef = useRef(initial.meta);
  const lastSent = useRef(canonical(model.get("graph") || null));
  const history = useRef({ stack: [toGraph(initial)], index: 0 });
  const [, setHistoryTick] = useState(0);
  const [hint, setHint] = useState(null);
  const [pending, setPending] = useState(null); // keyboard connection: {nodeId, port, kind}
  const rootRef = useRef(null);
  const hintTimer = useRef(null);

  const showHint = useCallback((text, tone = "error") => {
    setHint(text ? { text, tone } : null);
    clearTimeout(hintTimer.current);
    if (text) hintTimer.current = setTimeout(() => setHint(null), 7000);
  }, []);

  const apply = useCallback((nextNodes, nextEdges) => {
    nodesRef.current = nextNodes;
    edgesRef.current = nextEdges;
    setNodes(nextNodes);
    setEdges(nextEdges);
  }, []);

  // Write the current state to the host and record it for undo (unless unchanged).
  const commit = useCallback((nextNodes, nextEdges, { record = true } = {}) => {
    apply(nextNodes, nextEdges);
    const graph = toGraph({ nodes: nextNodes, edges: nextEdges, meta: metaRef.current });
    const key = canonical(graph);
    if (key === lastSent.current) return;
    lastSent.current = key;
    if (record) {
      const h = history.current;
      h.stack = h.stack.slice(0, h.index + 1);
      h.stack.push(graph);
      if (h.stack.length > HISTORY_LIMIT) h.stack.shift();
      h.index = h.stack.length - 1;
      setHistoryTick((t) => t + 1);
    }
    setModel(model, "graph", graph);
  }, [apply, model]);

  // React Flow deletes a block's wires and then the block in two calls: commit them once,
  // so one undo brings both back.
  const pendingCommit = useRef(false);
  const commitSoon = useCallback(() => {
    if (pendingCommit.current) return;
    pendingCommit.current = true;
    queueMicrotask(() => {
      pendingCommit.current = false;
      commit(nodesRef.current, edgesRef.current);
    });
  }, [commit]);

  const load = useCallback((graph) => {
    const state = fromGraph(graph);
    metaRef.current = state.meta;
    // keep selection of nodes that survive, so an undo does not lose the user's place
    const selected = new Set(nodesRef.current.filter((n) => n.selected).map((n) => n.id));
    return { nodes: state.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n)), edges: state.edges };
  }, []);

  // The host may replace the graph (a template, a loaded file, Python code): follow it.
  useEffect(() => {
    const onGraph = () => {
      const graph = model.get("graph");
      const key = canonical(graph || null);
      if (key === lastSent.current) return;
      lastSent.current = key;
      const state = load(graph);
      apply(state.nodes, state.edges);
      const h = history.current;
      h.stack = h.stack.slice(0, h.index + 1);
      h.stack.push(toGraph({ ...state, meta: metaRef.current }));
      h.index = h.stack.length - 1;
      setHistoryTick((t) => t + 1);
    };
    model.on("change:graph", onGraph);
    return () => { if (typeof model.off === "function") model.off("change:graph", onGraph); };
  }, [model, load, apply]);

  const travel = useCallback((step) => {
    const h = history.current;
    const target = h.index + step;
    if (target < 0 || target >= h.stack.length) return;
    h.index = target;
    setHistoryTick((t) => t + 1);
    const state = load(h.stack[target]);
    commit(state.nodes, state.edges, { record: false });
    showHint(step < 0 ? "Undone." : "Redone.", "info");
  }, [commit, load, showHint]);
  const undo = useCallback(() => travel(-1), [travel]);
  const redo = useCallback(() => travel(1), [travel]);

  const onNodesChange = useCallback((changes) => {
    const effective = readonly ? changes.filter((c) => c.type === "select" || c.type === "dimensions") : changes;
    const next = applyNodeChanges(effective, nodesRef.current);
    const removed = new Set(effective.filter((c) => c.type === "remove").map((c) => c.id));
    const settled = effective.some((c) => c.type === "position" && !c.dragging && c.position);
    if (removed.size) {
      apply(next, edgesRef.current.filter((e) => !removed.has(e.source) && !removed.has(e.target)));
      commitSoon();
    } else if (settled) {
      commit(next, edgesRef.current);
    } else {
      nodesRef.current = next;
      setNodes(next);
    }
  }, [apply, commit, commitSoon, readonly]);

  const onEdgesChange = useCallback((changes) => {
    const effective = readonly ? changes.filter((c) => c.type === "select") : changes;
    const next = applyEdgeChanges(effective, edgesRef.current);
    if (effective.some((c) => c.type === "remove")) { apply(nodesRef.current, next); commitSoon(); }
    else { edgesRef.current = next; setEdges(next); }
  }, [apply, commitSoon, readonly]);

  const connect = useCallback((conn) => {
    const why = connectionProblem(conn, nodesRef.current, index);
    if (why) { showHint(why); return false; }
    commit(nodesRef.current, addEdge(edgesRef.current, conn));
    showHint(`Connected ${conn.source}.${conn.sourceHandle} to ${conn.target}.${conn.targetHandle}.`, "info");
    return true;
  }, [commit, index, showHint]);

  const isValidConnection = useCallback((conn) => !connectionProblem(conn, nodesRef.current, index), [index]);

  const onConnectEnd = useCallback((_event, state) => {
    if (!state || state.isValid !== false || !state.fromHandle || !state.toHandle) return;
    const [a, b] = [state.fromHandle, state.toHandle];
    const [src, dst] = a.type === "source" ? [a, b] : [b, a];
    const why = connectionProblem({ source: src.nodeId, sourceHandle: src.id, target: dst.nodeId, targetHandle: dst.id }, nodesRef.current, index)
      || "Connect an output (right side) to an input (left side).";
    showHint(why);
  }, [index, showHint]);

  // The visible part of the graph area, in flow coordinates.
  const visibleArea = useCallback(() => {
    const box = rootRef.current && rootRef.current.querySelector(".wb-flow");
    const r = box ? box.getBoundingClientRect() : { left: 0, top: 0, width: 600, height: 400 };
    const a = flow.screenToFlowPosition({ x: r.left, y: r.top });
    const b = flow.screenToFlowPosition({ x: r.left + r.width, y: r.top + r.height });
    return { x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y };
  }, [flow]);

  const addBlock = useCallback((type, position) => {
    const spec = index.get(type);
    if (!spec || readonly) return;
    // A drop keeps the block wholly in view; a keyboard add takes the next free spot.
    const pos = position ? clampInto(position, visibleArea()) : nextFreeSpot(nodesRef.current, visibleArea());
    const id = uniqueId(type, new Set(nodesRef.current.map((n) => n.id)));
    const node = {
      id, type: "block", position: { x: Math.round(pos.x), y: Math.round(pos.y) }, selected: true,
      data: { blockType: type, params: defaultParams(spec), extra: {} },
    };
    const others = nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n));
    commit([...others, node], edgesRef.current);
    showHint(`Added ${spec.label} block "${id}".`, "info");
  }, [commit, index, readonly, showHint, visibleArea]);

  const onDragOver = useCallback((event) => {
    if (!event.dataTransfer.types.includes(BLOCK_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);
  const onDrop = useCallback((event) => {
    const type = event.dataTransfer.getData(BLOCK_MIME);
    if (!type) return;
    event.preventDefault();
    addBlock(type, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  }, [addBlock, flow]);

  const setParam = useCallback((nodeId, name, value) => {
    const next = nodesRef.current.map((n) => (n.id === nodeId
      ? { ...n, data: { ...n.data, params: { ...n.data.params, [name]: value } } } : n));
    commit(next, edgesRef.current);
  }, [commit]);

  // The toolbar's title: the graph's `name` (what the app saves the strategy under).
  const setName = useCallback((wanted) => {
    const name = String(wanted).trim();
    if (!name || readonly || name === (metaRef.current.name || "")) return;
    metaRef.current = { ...metaRef.current, name };
    commit(nodesRef.current, edgesRef.current);
    showHint(`Renamed the strategy to "${name}".`, "info");
  }, [commit, readonly, showHint]);

  const rename = useCallback((oldId, wanted) => {
    const clean = String(wanted).trim();
    if (!clean || clean === oldId) return true;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(clean)) {
      showHint(`"${clean}" is not a valid block name: use letters, digits and _ (not first).`);
      return false;
    }
    if (nodesRef.current.some((n) => n.id === clean)) {
      showHint(`A block named "${clean}" already exists: pick another name.`);
      return false;
    }
    const state = renameNode({ nodes: nodesRef.current, edges: edgesRef.current }, oldId, clean);
    commit(state.nodes, state.edges);
    return true;
  }, [commit, showHint]);

  // Keyboard connections: Enter on an output port, then Enter on an input port.
  const pickPort = useCallback((nodeId, port, kind) => {
    if (readonly) return;
    if (!pending || pending.kind === kind) {
      setPending({ nodeId, port, kind });
      showHint(`Selected ${nodeId}.${port}. Now choose ${kind === "source" ? "an input" : "an output"} and press Enter (Escape cancels).`, "info");
      return;
    }
    const [src, dst] = kind === "target" ? [pending, { nodeId, port }] : [{ nodeId, port }, pending];
    setPending(null);
    connect({ source: src.nodeId, sourceHandle: src.port, target: dst.nodeId, targetHandle: dst.port });
  }, [connect, pending, readonly, showHint]);

  const onKeyDown = useCallback((event) => {
    const tag = (event.target && event.target.tagName) || "";
    const inField = /^(INPUT|TEXTAREA|SELECT)$/.test(tag);
    const mod = event.ctrlKey || event.metaKey;
    if (event.key === "Escape" && pending) { setPending(null); showHint(null); return; }
    // Delete/Backspace remove the selected blocks and wires (handled here, not by React
    // Flow's document listener, because the canvas keeps its keys from the host page).
    if ((event.key === "Delete" || event.key === "Backspace") && !inField && !mod && !readonly) {
      const nodes = nodesRef.current.filter((n) => n.selected);
      const edges = edgesRef.current.filter((e) => e.selected);
      if (nodes.length || edges.length) {
        event.preventDefault();
        flow.deleteElements({ nodes, edges });
      }
      return;
    }
    if (!mod || inField) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) { event.preventDefault(); event.stopPropagation(); undo(); }
    else if ((key === "z" && event.shiftKey) || key === "y") { event.preventDefault(); event.stopPropagation(); redo(); }
  }, [flow, pending, readonly, redo, showHint, undo]);

  const byNode = useMemo(() => problemsByNode(problems), [problems]);
  const shownNodes = useMemo(() => nodes.map((n) => {
    const spec = index.get(n.data.blockType);
    const count = (byNode.get(n.id) || []).length;
    const label = `${spec ? spec.label : n.data.blockType} block ${n.id}` + (count ? `, ${count} problem${count > 1 ? "s" : ""}` : "");
    return { ...n, ariaLabel: label, connectable: !readonly, draggable: !readonly, deletable: !readonly };
  }), [nodes, index, byNode, readonly]);

  const context = useMemo(() => ({
    index, byNode, pending, pickPort, setParam, rename, readonly, edges,
  }), [index, byNode, pending, pickPort, setParam, rename, readonly, edges]);

  // Fit the graph while the host is still sizing the canvas (Panel and notebooks lay the
  // element out after the first render), until the user pans or zooms themselves.
  const userMoved = useRef(false);
  useEffect(() => {
    const box = rootRef.current && rootRef.current.querySelector(".wb-flow");
    if (!box || typeof ResizeObserver === "undefined") return undefined;
    const observer = new ResizeObserver(() => {
      if (!userMoved.current && nodesRef.current.length) flow.fitView({ maxZoom: 1, duration: 0 });
    });
    observer.observe(box);
    return () => observer.disconnect();
  }, [flow]);
  const onMoveStart = useCallback((event) => { if (event) userMoved.current = true; }, []);

  // What a result was computed from: blocks, params, wires (not positions or the name),
  // and the run settings. A result for another graph is not shown.
  const settingsValue = useModelValue(model, "settings");
  const resultKey = useMemo(() => JSON.stringify([
    nodes.map((n) => [n.id, n.data.blockType, n.data.params]), edges.map((e) => e.id).sort(),
    (metaRef.current && metaRef.current.settings) || null, settingsValue || null,
  ]), [nodes, edges, settingsValue]);
  const [sideOpen, setSideOpen] = useState(true);

  const h = history.current;
  const globalProblems = byNode.get("") || [];
  const unknownNodes = [...byNode.keys()].filter((k) => k && !nodes.some((n) => n.id === k));

  return (
    <CanvasContext.Provider value={context}>
      <div className="wb-root" ref={rootRef} onKeyDown={onKeyDown} tabIndex={-1} data-lm-suppress-shortcuts="true"
        role="application" aria-label="Strategy block canvas" data-testid="canvas-root">
        <Toolbar model={model} canUndo={h.index > 0} canRedo={h.index < h.stack.length - 1}
          onUndo={undo} onRedo={redo} onFit={() => flow.fitView({ maxZoom: 1, duration: 0 })}
          name={metaRef.current.name} nodeCount={nodes.length} onRename={setName} readonly={readonly}
          sideOpen={sideOpen} onToggleSide={() => setSideOpen((o) => !o)} />
        <div className="wb-body">
          {!readonly && <Palette catalog={catalog} onAdd={addBlock} mime={BLOCK_MIME} />}
          <div className="wb-flow" onDragOver={onDragOver} onDrop={onDrop} data-testid="flow">
            <ReactFlow
              nodes={shownNodes} edges={edges} nodeTypes={nodeTypes}
              onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
              onConnect={connect} onConnectEnd={onConnectEnd} isValidConnection={isValidConnection}
              onMoveStart={onMoveStart}
              nodesDraggable={!readonly} nodesConnectable={!readonly} nodesFocusable edgesFocusable
              deleteKeyCode={null}
              fitView={initial.nodes.length > 0} fitViewOptions={{ maxZoom: 1 }} minZoom={0.2} maxZoom={2}
              defaultEdgeOptions={{ animated: false }}
              ariaLabelConfig={{ "node.a11yDescription.default": "Press Enter or Space to select this block. Arrow keys move it, Delete removes it. Tab reaches its ports: Enter on an output, then Enter on an input connects them." }}
            >
              <Background gap={16} size={1} />
              <Controls showInteractive={false} />
            </ReactFlow>
            {nodes.length === 0 && (
              <div className="wb-empty" aria-hidden="true">Drag blocks here from the palette (or select one and press Enter).</div>
            )}
            {hint && (
              <div className={`wb-hint wb-hint-${hint.tone}`} role={hint.tone === "error" ? "alert" : "status"} data-testid="hint">{hint.text}</div>
            )}
          </div>
          {sideOpen && <aside className="wb-side" aria-label="Run settings, validation and results" data-testid="side">
            {(globalProblems.length > 0 || unknownNodes.length > 0) && (
              <section className="wb-problems" data-testid="graph-problems" aria-label="Strategy problems">
                <h3>Problems</h3>
                <ul>
                  {globalProblems.map((p, i) => <li key={`g${i}`}>{p.message}</li>)}
                  {unknownNodes.flatMap((k) => byNode.get(k).map((p, i) => <li key={`${k}${i}`}>{k}: {p.message}</li>))}
                </ul>
              </section>
            )}
            <Settings model={model} />
            <Results model={model} graphKey={resultKey} />
          </aside>}
        </div>
      </div>
    </CanvasContext.Provider>
  );
}
