/**
 * Blockbuilders Workbench in JupyterLab: `*.strategy.json` opens as a block canvas;
 * commands validate, backtest and export the open strategy through the workbench
 * server extension (workbench/server/), which calls the same Python API a notebook does.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { LabIcon } from '@jupyterlab/ui-components';
import { DockLayout, DockPanel, Widget } from '@lumino/widgets';

import {
  IBacktestResult,
  postJSON,
  requestAPI,
  WorkbenchAPIError
} from './api';
import { ResultsView } from './results';
import {
  FACTORY,
  FILE_TYPE,
  IRunOptions,
  serialize,
  StrategyDocument,
  StrategyFactory
} from './widget';

const PLUGIN_ID = '@blockbuilders/workbench-jupyterlab:plugin';
const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '4h', '1d'];

namespace CommandIDs {
  export const create = 'workbench:new-strategy';
  export const createFrom = 'workbench:new-strategy-from-starter';
  export const validate = 'workbench:validate';
  export const backtest = 'workbench:backtest';
  export const exportNotebook = 'workbench:export-notebook';
}

const strategyIcon = new LabIcon({
  name: 'workbench:strategy',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<rect x="2" y="3" width="7" height="5" rx="1"/><rect x="15" y="9" width="7" height="5" rx="1"/>' +
    '<rect x="2" y="16" width="7" height="5" rx="1"/>' +
    '<path d="M9 5.5h3v6h3v1h-4v-6H9zM9 18.5h3v-6h1v7H9z"/></g></svg>'
});

function errorText(error: unknown): string {
  if (error instanceof WorkbenchAPIError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Give the results `fraction` of the width it shares with its strategy (a split is 50/50
 * and the canvas needs the room). Moves the dock handle between them as a drag would;
 * if the layout is not what we expect, the split simply stays as Lab made it.
 */
function narrowSplit(doc: Widget, panel: Widget, fraction: number): void {
  requestAnimationFrame(() => {
    const dock = panel.parent;
    if (!(dock instanceof DockPanel) || !(dock.layout instanceof DockLayout)) {
      return;
    }
    const left = doc.node.getBoundingClientRect();
    const right = panel.node.getBoundingClientRect();
    const origin = dock.node.getBoundingClientRect();
    for (const handle of dock.handles()) {
      const r = handle.getBoundingClientRect();
      const between = r.left >= left.right - 2 && r.right <= right.left + 2;
      const overlaps = r.top <= right.top + 2 && r.bottom >= right.bottom - 2;
      if (r.width > 0 && between && overlaps) {
        const x = left.left + (right.right - left.left) * (1 - fraction);
        dock.layout.moveHandle(handle, x - origin.left, r.top - origin.top);
        return;
      }
    }
  });
}

/** A small form: symbol and timeframe, defaulting to the sample GOOG 1d. */
class RunOptionsBody extends Widget {
  constructor(initial: IRunOptions) {
    super();
    this.addClass('wb-run-options');
    const symbol = document.createElement('input');
    symbol.value = initial.symbol;
    symbol.name = 'symbol';
    const timeframe = document.createElement('select');
    timeframe.name = 'timeframe';
    for (const tf of TIMEFRAMES) {
      const option = document.createElement('option');
      option.value = option.textContent = tf;
      option.selected = tf === initial.timeframe;
      timeframe.appendChild(option);
    }
    const row = (label: string, input: HTMLElement) => {
      const l = document.createElement('label');
      l.textContent = label;
      l.appendChild(input);
      return l;
    };
    this.node.append(row('Symbol ', symbol), row('Timeframe ', timeframe));
    this._symbol = symbol;
    this._timeframe = timeframe;
  }

  getValue(): IRunOptions {
    return { symbol: this._symbol.value.trim(), timeframe: this._timeframe.value };
  }

  private _symbol: HTMLInputElement;
  private _timeframe: HTMLSelectElement;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Strategy canvas documents backed by the workbench server extension.',
  autoStart: true,
  requires: [],
  optional: [ICommandPalette, ILauncher, ILayoutRestorer, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const { commands, docRegistry, shell } = app;
    let catalog: Promise<any> | null = null;
    const catalogSource = {
      catalog: () => {
        if (!catalog) {
          catalog = requestAPI<any>('catalog');
          catalog.catch(() => (catalog = null));
        }
        return catalog;
      }
    };
    const results = new Map<string, MainAreaWidget<ResultsView>>();

    const resultsFor = (doc: StrategyDocument): MainAreaWidget<ResultsView> => {
      let panel = results.get(doc.id);
      if (!panel || panel.isDisposed) {
        panel = new MainAreaWidget({ content: new ResultsView() });
        panel.id = `wb-results-${doc.id}`;
        panel.title.label = `Results: ${PathExt.basename(doc.context.path)}`;
        panel.title.icon = strategyIcon;
        panel.title.closable = true;
        results.set(doc.id, panel);
        doc.disposed.connect(() => panel?.dispose());
      }
      if (!panel.isAttached) {
        shell.add(panel, 'main', { mode: 'split-right', ref: doc.id });
        narrowSplit(doc, panel, 0.34);
      }
      return panel;
    };

    const runBacktest = async (
      doc: StrategyDocument,
      options?: IRunOptions
    ): Promise<void> => {
      const view = doc.content;
      if (options) {
        view.runOptions = options;
      }
      const { symbol, timeframe } = view.runOptions;
      const label = `${symbol} ${timeframe}`;
      const panel = resultsFor(doc);
      panel.content.showRunning(label);
      // the same run lifecycle as the widget and Panel hosts: busy + cleared result, then
      // the result or the error, and busy cleared whatever happened
      view.model.update('result', null);
      view.model.update('busy', true);
      view.model.update('status', `Backtest on ${label}: running…`);
      try {
        const result = await postJSON<IBacktestResult>('backtest', {
          graph: view.graph,
          settings: view.model.get('settings') || {}
        });
        const name = view.graph?.name ?? PathExt.basename(doc.context.path);
        panel.content.showResult(name, result);
        view.setResult(result, result.status);
      } catch (error) {
        const details: any =
          error instanceof WorkbenchAPIError ? error.details || {} : {};
        panel.content.showError(`Backtest failed: ${errorText(error)}`);
        view.setResult(
          null,
          `Backtest on ${label}: failed`,
          errorText(error),
          typeof details.field === 'string' ? details.field : null
        );
        if (error instanceof WorkbenchAPIError && error.code === 'validation_error') {
          void view.validate().catch(() => undefined);
        }
      } finally {
        view.model.update('busy', false);
      }
    };

    const factory = new StrategyFactory(
      {
        name: FACTORY,
        label: 'Strategy Canvas',
        fileTypes: [FILE_TYPE],
        defaultFor: [FILE_TYPE],
        modelName: 'text'
      },
      catalogSource,
      { runBacktest }
    );
    docRegistry.addFileType({
      name: FILE_TYPE,
      displayName: 'Strategy',
      extensions: ['.strategy.json'],
      pattern: '^.*\\.strategy\\.json$',
      mimeTypes: ['application/json'],
      contentType: 'file',
      fileFormat: 'text',
      icon: strategyIcon
    });
    docRegistry.addWidgetFactory(factory);

    const tracker = new WidgetTracker<StrategyDocument>({ namespace: 'workbench-strategy' });
    factory.widgetCreated.connect((_, widget) => {
      widget.title.icon = strategyIcon;
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      void tracker.add(widget);
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: 'docmanager:open',
        args: widget => ({ path: widget.context.path, factory: FACTORY }),
        name: widget => widget.context.path
      });
    }

    const current = (): StrategyDocument | null => tracker.currentWidget;
    const isEnabled = () => current() !== null;

    const createStrategy = async (starter: string): Promise<void> => {
      const cwd = browser?.model.path ?? '';
      try {
        const { graph } = await requestAPI<{ graph: unknown }>(
          `starters/${encodeURIComponent(starter)}`
        );
        const model = await app.serviceManager.contents.newUntitled({
          path: cwd,
          type: 'file',
          ext: '.strategy.json'
        });
        await app.serviceManager.contents.save(model.path, {
          type: 'file',
          format: 'text',
          content: serialize(graph)
        });
        await commands.execute('docmanager:open', { path: model.path, factory: FACTORY });
      } catch (error) {
        Notification.error(`New strategy failed: ${errorText(error)}`, { autoClose: false });
      }
    };

    commands.addCommand(CommandIDs.create, {
      label: 'New Strategy',
      caption: 'Create untitled.strategy.json from a starter strategy and open its canvas',
      icon: args => (args.isPalette ? undefined : strategyIcon),
      execute: args => createStrategy((args.starter as string) || 'sma_crossover')
    });

    commands.addCommand(CommandIDs.createFrom, {
      label: 'New Strategy from Starter…',
      execute: async () => {
        try {
          const { starters } = await requestAPI<{ starters: string[] }>('starters');
          const choice = await InputDialog.getItem({
            title: 'Starter strategy',
            items: starters
          });
          if (choice.button.accept && choice.value) {
            await createStrategy(choice.value);
          }
        } catch (error) {
          Notification.error(`New strategy failed: ${errorText(error)}`);
        }
      }
    });

    commands.addCommand(CommandIDs.validate, {
      label: 'Validate Strategy',
      caption: 'Check the open strategy and badge the blocks at fault',
      isEnabled,
      execute: async () => {
        const doc = current();
        if (!doc) {
          return;
        }
        try {
          const problems = await doc.content.validate();
          if (problems.length === 0) {
            Notification.success(`${PathExt.basename(doc.context.path)}: no problems.`, {
              autoClose: 4000
            });
          } else {
            const lines = problems
              .slice(0, 8)
              .map(p => `${p.node ? p.node + ': ' : ''}${p.message}`);
            Notification.warning(
              `${problems.length} problem(s): ${lines.join(' · ')}`,
              { autoClose: false }
            );
          }
        } catch (error) {
          Notification.error(`Validation failed: ${errorText(error)}`);
        }
      }
    });

    commands.addCommand(CommandIDs.backtest, {
      label: 'Backtest Strategy…',
      caption: 'Run the open strategy on cached candles; metrics and equity open beside it',
      isEnabled,
      execute: async args => {
        const doc = current();
        if (!doc) {
          return;
        }
        let options: IRunOptions | undefined;
        if (args.symbol && args.timeframe) {
          options = { symbol: args.symbol as string, timeframe: args.timeframe as string };
        } else {
          const body = new RunOptionsBody(doc.content.runOptions);
          const answer = await showDialog({
            title: 'Backtest',
            body,
            buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })]
          });
          if (!answer.button.accept || !answer.value) {
            return;
          }
          options = answer.value;
        }
        await runBacktest(doc, options);
      }
    });

    commands.addCommand(CommandIDs.exportNotebook, {
      label: 'Export Strategy as Notebook',
      caption: 'Write a notebook beside the strategy file that backtests it, and open it',
      isEnabled,
      execute: async () => {
        const doc = current();
        if (!doc) {
          return;
        }
        try {
          const { path } = await postJSON<{ path: string }>('export', {
            path: doc.context.path,
            graph: doc.content.graph,
            ...doc.content.runOptions
          });
          await commands.execute('docmanager:open', { path });
        } catch (error) {
          Notification.error(`Export failed: ${errorText(error)}`);
        }
      }
    });

    if (palette) {
      const category = 'Workbench';
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category, args: { isPalette: true } });
      }
    }
    if (launcher) {
      launcher.add({ command: CommandIDs.create, category: 'Other', rank: 1 });
    }
    app.contextMenu.addItem({
      command: CommandIDs.backtest,
      selector: '.wb-strategy-document',
      rank: 1
    });
    app.contextMenu.addItem({
      command: CommandIDs.validate,
      selector: '.wb-strategy-document',
      rank: 2
    });
    app.contextMenu.addItem({
      command: CommandIDs.exportNotebook,
      selector: '.wb-strategy-document',
      rank: 3
    });

    // Say plainly when the server half is missing instead of failing later.
    requestAPI<{ status: string; version: string }>('health')
      .then(health => {
        document.body.dataset.workbenchServer = health.status;
        console.log(`workbench: server extension ${health.version} answers`);
      })
      .catch(error => {
        document.body.dataset.workbenchServer = 'missing';
        const why =
          error instanceof WorkbenchAPIError && error.status > 0
            ? `HTTP ${error.status}`
            : 'no answer';
        console.error('workbench: /workbench/api/health failed', error);
        // Lab cuts toasts at 140 characters: the fix comes first.
        Notification.error(
          `Workbench server extension does not answer (${why}): check ` +
            '`jupyter server extension list`, then restart JupyterLab.',
          { autoClose: false }
        );
      });
  }
};

export default plugin;
