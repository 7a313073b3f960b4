// Entry point in the anywidget shape: `export default { render({ model, el }) }`.
// The same file loads in anywidget (notebooks, JupyterLab) and in Panel's
// AnyWidgetComponent; CSS is injected into `el` so it also applies inside a shadow root.
import React from "react";
import { createRoot } from "react-dom/client";
import flowCss from "@xyflow/react/dist/style.css";
import css from "./styles.css";
import { App } from "./App.jsx";

function render({ model, el }) {
  const style = document.createElement("style");
  style.textContent = `${flowCss}\n${css}`;
  const host = document.createElement("div");
  host.className = "wb-host";
  el.appendChild(style);
  el.appendChild(host);
  const root = createRoot(host);
  root.render(<App model={model} />);
  return () => {
    root.unmount();
    style.remove();
    host.remove();
  };
}

export default { render };
