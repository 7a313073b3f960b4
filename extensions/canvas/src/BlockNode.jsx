// One block on the canvas: typed ports (handles) with labels, params edited in place
// within their bounds, a problem badge fed by Python's validation.
import React, { memo, useContext, useEffect, useState } from "react";
import { Handle, Position } from "@xyflow/react";
import { CanvasContext } from "./App.jsx";
import { PORT_LABELS } from "./graph.js";

function portLabel(label, nodeId, kind, port) {
  const what = `${PORT_LABELS[port.type] || port.type}${port.optional ? ", optional" : ""}`;
  return `${label} block ${nodeId}, ${kind === "target" ? "input" : "output"} ${port.name} (${what})`;
}

function Port({ nodeId, label, port, kind, problem, connected }) {
  const ctx = useContext(CanvasContext);
  const pending = ctx.pending && ctx.pending.nodeId === nodeId && ctx.pending.port === port.name && ctx.pending.kind === kind;
  const onKeyDown = (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      event.stopPropagation();
      ctx.pickPort(nodeId, port.name, kind);
    }
  };
  const classes = ["wb-port", `wb-port-${kind}`, `wb-type-${port.type}`];
  if (problem) classes.push("wb-port-problem");
  if (pending) classes.push("wb-port-pending");
  return (
    <div className={classes.join(" ")} title={`${port.name}: ${PORT_LABELS[port.type] || port.type}${port.doc ? ` — ${port.doc}` : ""}${problem ? `\n⚠ ${problem}` : ""}`}>
      <Handle
        type={kind} position={kind === "target" ? Position.Left : Position.Right} id={port.name}
        className={`wb-handle wb-handle-${port.type}${connected ? " wb-handle-connected" : ""}`}
        data-testid={`handle-${nodeId}-${port.name}`} data-port-type={port.type}
        tabIndex={ctx.readonly ? -1 : 0} role="button" aria-label={portLabel(label, nodeId, kind, port)}
        aria-pressed={pending ? "true" : "false"} onKeyDown={onKeyDown}
      />
      <span className={`wb-port-name${port.optional ? " wb-port-optional" : ""}`}>{port.name}</span>
      <span className="wb-port-type" aria-hidden="true">{port.type === "series_bool" ? "◆" : port.type === "scalar" ? "●" : "∿"}</span>
    </div>
  );
}

function ParamInput({ nodeId, label, param, value }) {
  const ctx = useContext(CanvasContext);
  const [text, setText] = useState(value == null ? "" : String(value));
  useEffect(() => { setText(value == null ? "" : String(value)); }, [value]);
  const id = `wb-${nodeId}-${param.name}`;
  const aria = `${label} block ${nodeId}, parameter ${param.name}`;
  const bounds = [param.min != null ? `min ${param.min}` : null, param.max != null ? `max ${param.max}` : null].filter(Boolean).join(", ");
  const title = `${param.doc || param.name}${bounds ? ` (${bounds})` : ""}`;
  const common = { id, className: "nodrag nowheel wb-param-input", "aria-label": aria, title, disabled: ctx.readonly, "data-testid": `param-${nodeId}-${param.name}` };

  if (param.type === "bool") {
    return <input type="checkbox" {...common} checked={!!value} onChange={(e) => ctx.setParam(nodeId, param.name, e.target.checked)} />;
  }
  if (param.type === "choice" || (Array.isArray(param.choices) && param.choices.length)) {
    return (
      <select {...common} value={value == null ? "" : String(value)} onChange={(e) => ctx.setParam(nodeId, param.name, e.target.value)}>
        {(param.choices || []).map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    );
  }
  const numeric = param.type === "int" || param.type === "float";
  const commit = () => {
    if (!numeric) { if (text !== value) ctx.setParam(nodeId, param.name, text); return; }
    if (text.trim() === "") { setText(value == null ? "" : String(value)); return; }
    const num = Number(text);
    if (!Number.isFinite(num)) { setText(value == null ? "" : String(value)); return; }
    const next = param.type === "int" ? Math.round(num) : num;
    if (next !== value) ctx.setParam(nodeId, param.name, next);
    else setText(String(next));
  };
  const out = numeric && text.trim() !== "" && ((param.min != null && Number(text) < param.min) || (param.max != null && Number(text) > param.max));
  return (
    <input
      type={numeric ? "number" : "text"} {...common}
      min={param.min ?? undefined} max={param.max ?? undefined}
      step={param.step ?? (param.type === "int" ? 1 : "any")}
      value={text} aria-invalid={out ? "true" : "false"}
      onChange={(e) => setText(e.target.value)} onBlur={commit}
      onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); commit(); } else if (e.key === "Escape") setText(value == null ? "" : String(value)); }}
    />
  );
}

function NameInput({ nodeId, label }) {
  const ctx = useContext(CanvasContext);
  const [text, setText] = useState(nodeId);
  useEffect(() => setText(nodeId), [nodeId]);
  const commit = () => { if (!ctx.rename(nodeId, text)) setText(nodeId); };
  return (
    <input className="nodrag wb-node-id" value={text} aria-label={`Name of ${label} block ${nodeId}`} title="Block name (used in the strategy JSON and in problems)"
      disabled={ctx.readonly} data-testid={`name-${nodeId}`}
      onChange={(e) => setText(e.target.value)} onBlur={commit}
      onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); commit(); } else if (e.key === "Escape") setText(nodeId); }} />
  );
}

function BlockNodeImpl({ id, data, selected }) {
  const ctx = useContext(CanvasContext);
  const spec = ctx.index.get(data.blockType);
  const problems = ctx.byNode.get(id) || [];
  const label = spec ? spec.label : data.blockType;
  const portProblem = (name) => problems.filter((p) => p.port === name).map((p) => p.message).join("\n") || null;
  const connectedIn = new Set(ctx.edges.filter((e) => e.target === id).map((e) => e.targetHandle));
  const connectedOut = new Set(ctx.edges.filter((e) => e.source === id).map((e) => e.sourceHandle));
  const messages = problems.map((p) => (p.port ? `${p.port}: ${p.message}` : p.message)).join("\n");
  const badgeId = `wb-badge-${id}`;
  const errors = problems.filter((p) => p.severity !== "warning").length;
  return (
    <div className={`wb-node${selected ? " wb-node-selected" : ""}${errors ? " wb-node-problem" : ""}${spec ? "" : " wb-node-unknown"}`}
      data-testid={`node-${id}`} data-block-type={data.blockType}>
      <div className="wb-node-head" title={spec ? spec.doc : `Unknown block type "${data.blockType}"`}>
        <span className={`wb-node-label wb-cat-${spec ? spec.category : "unknown"}`}>{label}</span>
        <NameInput nodeId={id} label={label} />
        {problems.length > 0 && (
          <span className={`wb-badge${errors ? "" : " wb-badge-warning"}`} id={badgeId} data-testid={`badge-${id}`} role="img"
            aria-label={`${problems.length} ${errors ? "problem" : "warning"}${problems.length > 1 ? "s" : ""}: ${messages}`} title={messages}>
            {errors ? "⚠" : "ⓘ"} {problems.length}
          </span>
        )}
      </div>
      <div className="wb-node-ports">
        <div className="wb-inputs">
          {(spec ? spec.inputs : []).map((p) => (
            <Port key={p.name} nodeId={id} label={label} port={p} kind="target" problem={portProblem(p.name)} connected={connectedIn.has(p.name)} />
          ))}
        </div>
        <div className="wb-outputs">
          {(spec ? spec.outputs : []).map((p) => (
            <Port key={p.name} nodeId={id} label={label} port={p} kind="source" problem={portProblem(p.name)} connected={connectedOut.has(p.name)} />
          ))}
        </div>
      </div>
      {spec && spec.params.length > 0 && (
        <div className="wb-params">
          {spec.params.map((p) => (
            <div className={`wb-param${portProblem(p.name) ? " wb-param-problem" : ""}`} key={p.name}>
              <label htmlFor={`wb-${id}-${p.name}`} title={p.doc}>{p.name}</label>
              <ParamInput nodeId={id} label={label} param={p} value={data.params[p.name]} />
            </div>
          ))}
        </div>
      )}
      {problems.length > 0 && <div className="wb-sr-only" aria-live="polite">{messages}</div>}
    </div>
  );
}

export const BlockNode = memo(BlockNodeImpl);
