/**
 * The anywidget-shaped `model` the canvas module talks to, kept in the browser.
 * get/set/on/off/save_changes behave as in anywidget: `set` changes local state and
 * fires `change:<key>` at once; `save_changes` hands the keys set since the last save
 * to the host (here: the strategy document), which writes them through.
 */

type Callback = (...args: any[]) => void;

export type ModelState = { [key: string]: any };

export class CanvasModel {
  constructor(
    initial: ModelState,
    private _onSave: (changed: ModelState) => void,
    private _onMessage: (content: any) => void = () => undefined
  ) {
    this._state = { ...initial };
  }

  get(key: string): any {
    return this._state[key];
  }

  /** Set from the front end (canvas): recorded for the next save_changes. */
  set(key: string, value: any): void {
    this._pending.add(key);
    this._assign(key, value);
  }

  save_changes(): void {
    if (this._pending.size === 0) {
      return;
    }
    const changed: ModelState = {};
    for (const key of this._pending) {
      changed[key] = this._state[key];
    }
    this._pending.clear();
    this._onSave(changed);
  }

  /** Set from the host (document, server answers): the canvas hears it, nothing is saved. */
  update(key: string, value: any): void {
    this._assign(key, value);
  }

  on(event: string, callback: Callback): void {
    for (const name of event.split(/\s+/)) {
      if (!this._handlers.has(name)) {
        this._handlers.set(name, new Set());
      }
      this._handlers.get(name)!.add(callback);
    }
  }

  off(event?: string | null, callback?: Callback | null): void {
    if (!event) {
      if (!callback) {
        this._handlers.clear();
      } else {
        this._handlers.forEach(set => set.delete(callback));
      }
      return;
    }
    for (const name of event.split(/\s+/)) {
      if (callback) {
        this._handlers.get(name)?.delete(callback);
      } else {
        this._handlers.delete(name);
      }
    }
  }

  /** Custom message from the front end to the host (anywidget's model.send). */
  send(content: any): void {
    this._onMessage(content);
  }

  dispose(): void {
    this._handlers.clear();
  }

  private _assign(key: string, value: any): void {
    const old = this._state[key];
    this._state[key] = value;
    if (old !== value) {
      this._emit(`change:${key}`, this, value);
      this._emit('change', this);
    }
  }

  private _emit(name: string, ...args: any[]): void {
    const handlers = this._handlers.get(name);
    if (!handlers) {
      return;
    }
    for (const cb of Array.from(handlers)) {
      try {
        cb(...args);
      } catch (error) {
        console.error(`workbench canvas: handler for ${name} failed`, error);
      }
    }
  }

  private _state: ModelState;
  private _pending = new Set<string>();
  private _handlers = new Map<string, Set<Callback>>();
}
