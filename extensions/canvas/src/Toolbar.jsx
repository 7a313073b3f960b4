// Toolbar: the strategy's name (editable: the graph's `name`), undo/redo, fit, Run
// (increments the host's run_requested counter), the side panel toggle, status.
import React, { useEffect, useState } from "react";
import { useModelValue, setModel } from "./model.js";

// A run is under way while the host's `busy` key is true. A host without that key (an
// older one) ends its status with "…" while running.
export function isBusy(busy, status) {
  if (typeof busy === "boolean") return busy;
  return /…\s*$/.test(status || "");
}

function Title({ name, onRename, readonly }) {
  const shown = name || "Untitled strategy";
  const [draft, setDraft] = useState(shown);
  useEffect(() => setDraft(shown), [shown]);
  if (readonly || !onRename) return <span className="wb-title" title={shown} data-testid="title">{shown}</span>;
  const done = () => { if (draft.trim()) onRename(draft); else setDraft(shown); };
  return (
    <input className="wb-title wb-title-input" value={draft} aria-label="Strategy name" title="Strategy name (click to edit)"
      data-testid="title-input" maxLength={120} onChange={(e) => setDraft(e.target.value)} onBlur={done}
      onKeyDown={(e) => {
        if (e.key === "Enter") { e.preventDefault(); done(); e.currentTarget.blur(); }
        else if (e.key === "Escape") { e.preventDefault(); setDraft(shown); }
      }} />
  );
}

export function Toolbar({ model, canUndo, canRedo, onUndo, onRedo, onFit, name, nodeCount, onRename, readonly,
  sideOpen, onToggleSide }) {
  const status = useModelValue(model, "status");
  const busy = isBusy(useModelValue(model, "busy"), status);
  const run = () => setModel(model, "run_requested", (Number(model.get("run_requested")) || 0) + 1);
  return (
    <div className="wb-toolbar" role="toolbar" aria-label="Canvas tools">
      <Title name={name} onRename={onRename} readonly={readonly} />
      <button type="button" onClick={onUndo} disabled={!canUndo} data-testid="undo-button" aria-label="Undo (Ctrl+Z)" title="Undo (Ctrl+Z)">↶ Undo</button>
      <button type="button" onClick={onRedo} disabled={!canRedo} data-testid="redo-button" aria-label="Redo (Ctrl+Shift+Z)" title="Redo (Ctrl+Shift+Z)">↷ Redo</button>
      <button type="button" onClick={onFit} data-testid="fit-button" aria-label="Fit the strategy in view">Fit</button>
      <button type="button" className="wb-run" onClick={run} disabled={nodeCount === 0 || busy} aria-busy={busy ? "true" : "false"} data-testid="run-button" aria-label="Run backtest">{busy ? "Running…" : "▶ Run backtest"}</button>
      <span className="wb-status" role="status" aria-live="polite" data-testid="status">{status || ""}</span>
      {onToggleSide && (
        <button type="button" className="wb-side-toggle" onClick={onToggleSide} aria-expanded={sideOpen ? "true" : "false"}
          data-testid="side-toggle" title={sideOpen ? "Hide settings and results (more room for the graph)" : "Show settings and results"}>
          {sideOpen ? "Hide panel ▸" : "◂ Settings & results"}
        </button>
      )}
    </div>
  );
}
