// Toolbar: undo/redo, fit, Run (increments the host's run_requested counter), status.
import React from "react";
import { useModelValue, setModel } from "./model.js";

export function Toolbar({ model, canUndo, canRedo, onUndo, onRedo, onFit, name, nodeCount }) {
  const status = useModelValue(model, "status");
  // Hosts end the status with "…" while a run is under way ("Backtest on X: running…"):
  // no second run is queued by a double click.
  const busy = /…\s*$/.test(status || "");
  const run = () => setModel(model, "run_requested", (Number(model.get("run_requested")) || 0) + 1);
  return (
    <div className="wb-toolbar" role="toolbar" aria-label="Canvas tools">
      <span className="wb-title" title={name || "Untitled strategy"}>{name || "Untitled strategy"}</span>
      <button type="button" onClick={onUndo} disabled={!canUndo} data-testid="undo-button" aria-label="Undo (Ctrl+Z)" title="Undo (Ctrl+Z)">↶ Undo</button>
      <button type="button" onClick={onRedo} disabled={!canRedo} data-testid="redo-button" aria-label="Redo (Ctrl+Shift+Z)" title="Redo (Ctrl+Shift+Z)">↷ Redo</button>
      <button type="button" onClick={onFit} data-testid="fit-button" aria-label="Fit the strategy in view">Fit</button>
      <button type="button" className="wb-run" onClick={run} disabled={nodeCount === 0 || busy} aria-busy={busy ? "true" : "false"} data-testid="run-button" aria-label="Run backtest">{busy ? "Running…" : "▶ Run backtest"}</button>
      <span className="wb-status" role="status" aria-live="polite" data-testid="status">{status || ""}</span>
    </div>
  );
}
