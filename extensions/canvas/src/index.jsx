// Entry point in the anywidget shape: `export default { render({ model, el }) }`.
// The same file loads in anywidget (notebooks, JupyterLab) and in Panel's
// AnyWidgetComponent; CSS is injected into `el` so it also applies inside a shadow root.
import React from "react";
import { createRoot } from "react-dom/client";
import flowCss from "@xyflow/react/dist/style.css";
import css from "./styles.css";
import { App } from "./App.jsx";

const DEFAULT_HEIGHT = 640;

function render({ model, el }) {
  const style = document.createElement("style");
  style.textContent = `${flowCss}\n${css}`;
  const host = document.createElement("div");
  host.className = "wb-host";
  // Height in CSS pixels: the widget's `height` trait, or Panel's layout height (its
  // adapter falls back to the component's own attributes); a notebook output area has
  // no height of its own, so the canvas brings one.
  const size = () => {
    const h = Number(model.get("height"));
    host.style.height = `${Number.isFinite(h) && h >= 320 ? h : DEFAULT_HEIGHT}px`;
  };
  size();
  model.on("change:height", size);
  // Keys typed on the canvas belong to the canvas: a notebook in command mode would
  // otherwise act on them too ("D, D" deletes the cell). Shortcuts with Ctrl/Cmd/Alt
  // (the host's save, etc.) and bare modifier keys still reach the host.
  const keepKeys = (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (["Shift", "Control", "Meta", "Alt"].includes(event.key)) return;
    event.stopPropagation();
  };
  el.addEventListener("keydown", keepKeys);
  el.appendChild(style);
  el.appendChild(host);
  const root = createRoot(host);
  root.render(<App model={model} />);
  return () => {
    if (typeof model.off === "function") model.off("change:height", size);
    el.removeEventListener("keydown", keepKeys);
    root.unmount();
    style.remove();
    host.remove();
  };
}

export default { render };
