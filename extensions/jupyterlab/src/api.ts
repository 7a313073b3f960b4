/**
 * Calls to the workbench server extension (`workbench/server/`, under /workbench/api/).
 * Errors come back in the seeds' envelope {"error": {code, message, details, ...}};
 * WorkbenchAPIError carries it so the UI can show the message as written.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export const API_NAMESPACE = 'workbench/api';

export interface IProblem {
  node: string | null;
  port: string | null;
  code: string;
  message: string;
}

export interface IBacktestResult {
  symbol: string;
  timeframe: string;
  metrics: { [key: string]: number | string | null };
  equity: { t: string[]; v: (number | null)[] };
  n_trades: number;
  provenance: { [key: string]: unknown };
  /** The canvas's `result` payload, the same in every host (workbench/widgets/host.py). */
  canvas: any;
  status: string;
}

/** One cached candle series, as the canvas's Run settings list them. */
export interface ISeries {
  symbol: string;
  timeframe: string;
  rows: number;
  first: string | null;
  last: string | null;
}

/** One named universe the Run settings offer (`symbols: null` = every cached symbol). */
export interface IUniverse {
  name: string;
  symbols: string[] | null;
}

export class WorkbenchAPIError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly details: unknown = {}
  ) {
    super(message);
  }
}

export function apiUrl(endPoint: string): string {
  const settings = ServerConnection.makeSettings();
  return URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
}

/** GET or POST one endpoint; throws WorkbenchAPIError with the server's own message. */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(apiUrl(endPoint), init, settings);
  } catch (error) {
    throw new WorkbenchAPIError(
      `The Jupyter server did not answer (${String(error)}).`,
      'network_error',
      0
    );
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const err = data && data.error;
    if (err && typeof err.message === 'string') {
      throw new WorkbenchAPIError(err.message, err.code, response.status, err.details);
    }
    throw new WorkbenchAPIError(
      `${endPoint}: HTTP ${response.status} ${response.statusText}`,
      response.status === 404 ? 'not_found' : 'http_error',
      response.status
    );
  }
  return data as T;
}

export function postJSON<T>(endPoint: string, body: unknown): Promise<T> {
  return requestAPI<T>(endPoint, { method: 'POST', body: JSON.stringify(body) });
}

let canvasModule: Promise<ICanvasModule> | null = null;

/** The anywidget-shaped canvas module: `export default { render({model, el}) }`. */
export interface ICanvasModule {
  render(props: { model: unknown; el: HTMLElement }): unknown;
  initialize?(props: { model: unknown }): unknown;
}

/**
 * Load the canvas bundle (workbench/widgets/static/canvas.js, the same file the notebook
 * widget and Panel use) from the server extension and import it from a blob URL.
 * Fetching through ServerConnection sends the server's auth; nothing leaves the
 * machine, so it works offline; and the Lab build does not depend on the canvas build.
 */
export function loadCanvasModule(): Promise<ICanvasModule> {
  if (!canvasModule) {
    canvasModule = (async () => {
      const settings = ServerConnection.makeSettings();
      const response = await ServerConnection.makeRequest(
        apiUrl('canvas.js'),
        {},
        settings
      );
      const code = await response.text();
      if (!response.ok) {
        let message = `canvas.js: HTTP ${response.status}`;
        try {
          message = JSON.parse(code).error.message;
        } catch {
          /* keep the status line */
        }
        throw new WorkbenchAPIError(message, 'canvas_missing', response.status);
      }
      const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
      try {
        const mod = await import(/* webpackIgnore: true */ url);
        const view = (mod.default ?? mod) as ICanvasModule;
        if (typeof view.render !== 'function') {
          throw new Error('canvas.js has no default export with render({model, el})');
        }
        return view;
      } finally {
        URL.revokeObjectURL(url);
      }
    })();
    canvasModule.catch(() => {
      canvasModule = null; // let a later open try again (e.g. after `make js`)
    });
  }
  return canvasModule;
}
