/**
 * The panel beside a strategy: metrics of the last backtest and its equity curve
 * (a plain SVG polyline, so nothing is fetched from anywhere).
 */
import { Widget } from '@lumino/widgets';

import { IBacktestResult } from './api';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Fractions whose name says so are shown as percent, like the canvas's own panel. */
const PERCENT = /return|drawdown|cagr|volatility|rate|exposure/i;

export function formatValue(
  name: string,
  value: number | string | null | undefined
): string {
  if (value === null || value === undefined) {
    return '–';
  }
  if (typeof value !== 'number') {
    return String(value);
  }
  if (!Number.isFinite(value)) {
    return '–';
  }
  if (PERCENT.test(name) && !/duration|bars|seconds/i.test(name)) {
    return `${(value * 100).toFixed(2)} %`;
  }
  if (Number.isInteger(value)) {
    return value.toLocaleString('en-US');
  }
  return Math.abs(value) >= 1000 ? value.toFixed(2) : value.toPrecision(4);
}

export class ResultsView extends Widget {
  constructor() {
    super();
    this.addClass('wb-results');
    this.node.innerHTML = '<p class="wb-results-empty">No backtest yet.</p>';
  }

  showRunning(label: string): void {
    this.node.replaceChildren(this._para('wb-results-running', `Running ${label}…`));
  }

  showError(message: string): void {
    this.node.replaceChildren(this._para('wb-results-error', message));
  }

  showResult(strategyName: string, result: IBacktestResult): void {
    const title = document.createElement('h3');
    title.textContent = `${strategyName} · ${result.symbol} ${result.timeframe}`;
    const table = document.createElement('table');
    table.className = 'wb-results-metrics';
    // the host's formatting (workbench/widgets/host.py format_metric), as on the canvas
    const shown: { [key: string]: string } = (result.canvas && result.canvas.display) || {};
    const rows: [string, string][] = [['trades', formatValue('trades', result.n_trades)]];
    for (const [key, value] of Object.entries(result.metrics)) {
      rows.push([key.replace(/_/g, ' '), shown[key] ?? formatValue(key, value)]);
    }
    for (const [key, value] of rows) {
      const tr = table.insertRow();
      const th = document.createElement('th');
      th.textContent = key;
      tr.appendChild(th);
      tr.insertCell().textContent = value;
      tr.dataset.metric = key.replace(/ /g, '_');
    }
    this.node.replaceChildren(title, this._equity(result), table);
  }

  private _equity(result: IBacktestResult): Element {
    const width = 600;
    const height = 180;
    const values = result.equity.v.filter((v): v is number => typeof v === 'number');
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('class', 'wb-results-equity');
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    if (values.length < 2) {
      return svg;
    }
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const span = hi - lo || 1;
    const points = values
      .map((v, i) => {
        const x = (i / (values.length - 1)) * width;
        const y = height - ((v - lo) / span) * (height - 8) - 4;
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
    const line = document.createElementNS(SVG_NS, 'polyline');
    line.setAttribute('points', points);
    line.setAttribute('fill', 'none');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.appendChild(line);
    const caption = document.createElementNS(SVG_NS, 'title');
    caption.textContent = `equity ${formatValue('', values[0])} → ${formatValue('', values[values.length - 1])}`;
    svg.appendChild(caption);
    return svg;
  }

  private _para(cls: string, text: string): HTMLElement {
    const p = document.createElement('p');
    p.className = cls;
    p.textContent = text;
    return p;
  }
}
