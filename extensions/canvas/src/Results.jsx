// A small results panel: headline metrics, the settings the run used, and an equity
// sparkline (SVG, no chart library). Numbers come formatted by the host (`display`, one
// rule in workbench/widgets/host.py); `fmt` is the fallback for hosts that send none.
import React, { useEffect, useState } from "react";
import { useModelValue } from "./model.js";

const LABELS = {
  total_return: "Total return", cagr: "CAGR", sharpe: "Sharpe", sortino: "Sortino",
  max_drawdown: "Max drawdown", calmar: "Calmar", win_rate: "Win rate", profit_factor: "Profit factor",
  n_trades: "Trades", exposure: "Exposure", volatility: "Volatility", expectancy: "Expectancy",
};
const PERCENT = /return|drawdown|cagr|volatility|rate|exposure|fees|slippage/i;

export function fmt(name, value) {
  if (value == null || (typeof value === "number" && !Number.isFinite(value))) return "–";
  if (typeof value !== "number") return String(value);
  if (PERCENT.test(name) && !/duration/i.test(name)) return `${(value * 100).toFixed(2)} %`;
  if (Number.isInteger(value) && /^n_/.test(name)) return value.toLocaleString("en-US");
  return Math.abs(value) >= 1000 ? value.toLocaleString("en-US", { maximumFractionDigits: 0 }) : value.toFixed(3);
}

function Sparkline({ values }) {
  const ys = (values || []).filter((v) => typeof v === "number" && Number.isFinite(v));
  if (ys.length < 2) return null;
  const w = 220, h = 60;
  const lo = Math.min(...ys), hi = Math.max(...ys), span = hi - lo || 1;
  const pts = ys.map((v, i) => `${((i / (ys.length - 1)) * w).toFixed(1)},${(h - ((v - lo) / span) * h).toFixed(1)}`).join(" ");
  const up = ys[ys.length - 1] >= ys[0];
  return (
    <svg className="wb-spark" viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" data-testid="equity-sparkline"
      aria-label={`Equity from ${fmt("", ys[0])} to ${fmt("", ys[ys.length - 1])}`}>
      <polyline points={pts} fill="none" stroke={up ? "#1b7f3b" : "#b42318"} strokeWidth="1.5" />
    </svg>
  );
}

const USED = [["candles", "Candles"], ["range", "Bars"], ["fees", "Fees / side"], ["slippage", "Slippage"],
  ["fill", "Fill at"], ["cash", "Initial cash"], ["sizing", "Sizing"], ["portfolio", "Portfolio"]];

function Used({ settings }) {
  const text = settings && settings.text;
  if (!text) return null;
  return (
    <table className="wb-metrics wb-used" data-testid="settings-used" aria-label="Settings this run used">
      <caption>Settings used</caption>
      <tbody>
        {USED.filter(([k]) => text[k]).map(([k, label]) => (
          <tr key={k} data-testid={`used-${k}`}><th scope="row">{label}</th><td>{text[k]}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

// A universe run: one row per symbol (P&L contribution, its return, trades, exposure).
function BySymbol({ rows }) {
  if (!rows || !rows.length) return null;
  return (
    <table className="wb-metrics wb-by-symbol" data-testid="by-symbol" aria-label="Per symbol">
      <caption>Per symbol</caption>
      <thead><tr><th scope="col">Symbol</th><th scope="col">Contribution</th><th scope="col">Return</th><th scope="col">Trades</th><th scope="col">Exposure</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.symbol} data-testid={`by-symbol-${r.symbol}`}>
            <th scope="row">{r.symbol}</th><td>{fmt("return", r.contribution)}</td><td>{fmt("return", r.return)}</td>
            <td>{fmt("n_trades", r.n_trades)}</td><td>{fmt("exposure", r.exposure)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// `graphKey` names what the canvas holds now; a result that arrived for another key
// (the graph or the settings changed since) is put away, error included.
export function Results({ model, graphKey }) {
  const result = useModelValue(model, "result");
  const [stamp, setStamp] = useState({ result, key: graphKey });
  useEffect(() => { setStamp({ result, key: graphKey }); }, [result]); // eslint-disable-line
  const stale = !!result && stamp.result === result && stamp.key !== graphKey;
  if (!result || stale) {
    return (
      <section className="wb-results wb-muted" aria-label="Backtest results" data-testid="results-empty">
        <h3>Results</h3>
        <p>{stale ? "The strategy or its settings changed since the last run: press Run to see new results." : "Run a backtest to see metrics here."}</p>
      </section>
    );
  }
  const metrics = result.metrics || {};
  const shown = result.display || {};
  const names = result.headline || Object.keys(metrics).slice(0, 10);
  return (
    <section className="wb-results" aria-label="Backtest results" data-testid="results">
      <h3>Results</h3>
      {result.error && <p className="wb-error" role="alert" data-testid="result-error">{result.error}</p>}
      {result.label && <p className="wb-muted">{result.label}</p>}
      <Sparkline values={result.equity} />
      <table className="wb-metrics">
        <tbody>
          {names.filter((n) => n in metrics).map((n) => (
            <tr key={n} data-testid={`metric-${n}`}><th scope="row">{LABELS[n] || n.replace(/_/g, " ")}</th><td>{n in shown ? shown[n] : fmt(n, metrics[n])}</td></tr>
          ))}
        </tbody>
      </table>
      <BySymbol rows={result.by_symbol} />
      <Used settings={result.settings} />
    </section>
  );
}
