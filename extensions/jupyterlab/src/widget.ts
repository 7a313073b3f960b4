/**
 * A `*.strategy.json` file as a canvas document. The document's text is the source of
 * truth: the canvas edits the `graph` key of its model, which is written back as JSON
 * (so the document turns dirty and Save writes it like any Lab document), and a
 * change on disk or a revert is pushed to the canvas.
 */
import {
  ABCWidgetFactory,
  DocumentRegistry,
  DocumentWidget
} from '@jupyterlab/docregistry';
import { Widget } from '@lumino/widgets';

import {
  IBacktestResult,
  IProblem,
  ISeries,
  IUniverse,
  loadCanvasModule,
  postJSON,
  requestAPI,
  WorkbenchAPIError
} from './api';
import { CanvasModel, ModelState } from './model';

export const FACTORY = 'Strategy Canvas';
export const FILE_TYPE = 'workbench-strategy';

export interface IRunOptions {
  symbol: string;
  timeframe: string;
}

export function serialize(graph: unknown): string {
  return JSON.stringify(graph, null, 2) + '\n';
}

/**
 * The canvas's `result` key: the server's `canvas` payload (built by the same Python
 * function as in the widget and the Panel app), or the error payload of a failed run
 * with the settings field at fault (`details.field`).
 */
export function canvasResult(
  result: IBacktestResult | null,
  error?: string,
  field?: string | null
): any {
  if (error) {
    return {
      metrics: {},
      headline: [],
      display: {},
      equity: [],
      label: '',
      settings: null,
      error,
      field: field ?? null
    };
  }
  return result ? result.canvas : null;
}

/** Shared by every canvas: the block catalog, fetched once from the server. */
export interface ICatalogSource {
  catalog(): Promise<any>;
}

/** Callbacks the plugin gives a canvas so the canvas's own Run button works. */
export interface ICanvasHost {
  runBacktest(doc: StrategyDocument, options?: IRunOptions): Promise<void>;
}

export class CanvasView extends Widget {
  constructor(
    private _context: DocumentRegistry.Context,
    private _catalog: ICatalogSource,
    private _host: ICanvasHost
  ) {
    super();
    this.addClass('wb-canvas');
    this.node.dataset.path = _context.path;
    this.model = new CanvasModel(
      {
        graph: null,
        catalog: null,
        problems: [],
        result: null,
        run_requested: 0,
        status: 'Loading…',
        readonly: false,
        settings: {},
        series: [],
        universes: [],
        busy: false
      },
      changed => this._onSave(changed)
    );
    // The canvas asks Lab not to run its shortcuts inside it (data-lm-suppress-shortcuts),
    // so Ctrl/Cmd+S would do nothing there: save the document ourselves, unless Lab did.
    this.node.addEventListener('keydown', this._onKeydown, true);
    void this._start();
  }

  readonly model: CanvasModel;
  document: StrategyDocument | null = null;

  /** The candles the canvas's Run settings name (the export and the dialog use them). */
  get runOptions(): IRunOptions {
    const s = this.model.get('settings') || {};
    return { symbol: s.symbol || 'GOOG', timeframe: s.timeframe || '1d' };
  }

  set runOptions(options: IRunOptions) {
    this.model.update('settings', { ...(this.model.get('settings') || {}), ...options });
  }

  /** The graph as the canvas has it (falls back to the file's text). */
  get graph(): any {
    return this.model.get('graph') ?? this._parse(this._context.model.toString());
  }

  async validate(): Promise<IProblem[]> {
    const { problems, status } = await postJSON<{
      problems: IProblem[];
      status: string;
    }>('validate', {
      graph: this.graph
    });
    this.model.update('problems', problems);
    if (!this.model.get('busy')) {
      this.model.update('status', status);
    }
    return problems;
  }

  /** Show a backtest answer (or an error) in the canvas's own results panel. */
  setResult(
    result: IBacktestResult | null,
    status: string,
    error?: string,
    field?: string | null
  ): void {
    this.model.update('result', canvasResult(result, error, field));
    this.model.update('status', status);
  }

  /**
   * The cached series and the named universes for the Run settings (the same lists the
   * widget and Panel hosts send: host.available_series / available_universes); the
   * first series when none is chosen yet.
   */
  async loadSeries(): Promise<void> {
    const { series, universes } = await requestAPI<{
      series: ISeries[];
      universes?: IUniverse[];
    }>('series');
    this.model.update('series', series);
    this.model.update('universes', universes ?? []);
    const s = this.model.get('settings') || {};
    if (series.length > 0 && !(s.symbol && s.timeframe)) {
      this.model.update('settings', {
        ...s,
        symbol: series[0].symbol,
        timeframe: series[0].timeframe
      });
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._validateTimer);
    this.node.removeEventListener('keydown', this._onKeydown, true);
    try {
      if (typeof this._cleanup === 'function') {
        this._cleanup();
      }
    } finally {
      this.model.dispose();
      super.dispose();
    }
  }

  private async _start(): Promise<void> {
    await this._context.ready;
    this._lastText = this._context.model.toString();
    const graph = this._parse(this._lastText);
    if (graph === undefined) {
      this._showMessage(
        `${this._context.path} is not valid JSON. Open it with the text editor ` +
          '(right click → Open With → Editor) to fix it.'
      );
      return;
    }
    this.model.update('graph', graph);
    this.model.update('readonly', this._context.contentsModel?.writable === false);
    this._context.model.contentChanged.connect(this._onContentChanged, this);
    try {
      const [catalog, view] = await Promise.all([
        this._catalog.catalog(),
        loadCanvasModule()
      ]);
      this.model.update('catalog', catalog);
      this.model.update('status', 'Ready');
      await this.loadSeries().catch(error => {
        this.model.update('status', `Cached candles unavailable: ${error.message}`);
      });
      this.model.on('change:run_requested', () => {
        void this._host.runBacktest(this.document!);
      });
      if (view.initialize) {
        await view.initialize({ model: this.model });
      }
      const cleanup = await view.render({ model: this.model, el: this.node });
      this._cleanup = typeof cleanup === 'function' ? (cleanup as () => void) : null;
      this.node.dataset.rendered = 'true';
      this._scheduleValidate();
    } catch (error) {
      const message =
        error instanceof WorkbenchAPIError ? error.message : String(error);
      this._showMessage(`The canvas could not load: ${message}`);
    }
  }

  private _onKeydown = (event: KeyboardEvent): void => {
    const accel = event.ctrlKey || event.metaKey;
    if (accel && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 's') {
      if (!event.defaultPrevented) {
        event.preventDefault();
        void this._context.save();
      }
    }
  };

  private _onSave(changed: ModelState): void {
    if ('graph' in changed) {
      const text = serialize(changed.graph);
      if (text !== this._lastText) {
        this._lastText = text;
        this._context.model.fromString(text);
        // setSource does not flag the document (only typed edits do): the canvas
        // edit is a user edit, so the tab turns dirty and Save writes it.
        this._context.model.dirty = true;
        this._scheduleValidate();
      }
    }
  }

  private _onContentChanged(): void {
    const text = this._context.model.toString();
    if (text === this._lastText) {
      return; // our own write echoing back
    }
    this._lastText = text;
    const graph = this._parse(text);
    if (graph !== undefined) {
      this.model.update('graph', graph);
      this._scheduleValidate();
    }
  }

  private _scheduleValidate(): void {
    window.clearTimeout(this._validateTimer);
    this._validateTimer = window.setTimeout(() => {
      this.validate().catch(error => {
        this.model.update('status', `Validation unavailable: ${error.message}`);
      });
    }, 300);
  }

  private _parse(text: string): any {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  private _showMessage(text: string): void {
    const p = document.createElement('p');
    p.className = 'wb-canvas-message';
    p.textContent = text;
    this.node.replaceChildren(p);
  }

  private _cleanup: (() => void) | null = null;
  private _lastText = '';
  private _validateTimer = 0;
}

export class StrategyDocument extends DocumentWidget<CanvasView> {
  constructor(options: DocumentWidget.IOptions<CanvasView>) {
    super(options);
    this.addClass('wb-strategy-document');
    options.content.document = this;
  }
}

export class StrategyFactory extends ABCWidgetFactory<StrategyDocument> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<StrategyDocument>,
    private _catalog: ICatalogSource,
    private _host: ICanvasHost
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): StrategyDocument {
    const content = new CanvasView(context, this._catalog, this._host);
    return new StrategyDocument({ content, context });
  }
}
