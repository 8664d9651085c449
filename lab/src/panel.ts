/**
 * The part every panel shares: its controls (from a declarative list), play / pause /
 * step / reset, the seed, the settings in the URL, one training worker, the backend badge,
 * exports and CSV of every chart. A panel supplies its controls and a view that draws
 * snapshots.
 */
import { downloadFiles, readFiles } from './download.js';
import type { FromWorker, LabFile, Settings, Snapshot, ToWorker } from './protocol.js';
import type { Chart } from './chart.js';

/** One control. */
export interface Control {
  readonly key: string;
  readonly label: string;
  readonly kind: 'number' | 'range' | 'select' | 'checkbox';
  readonly default: string | number | boolean;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  readonly options?: readonly string[];
  /** Applied to the running engine without a reset (e.g. the temperature). */
  readonly live?: boolean;
  readonly help?: string;
}

/** A button that runs an engine action; a file-producing one downloads its files. */
export interface ActionButton {
  readonly name: string;
  readonly label: string;
  readonly help?: string;
}

/** What a panel's view gets from the host. */
export interface PanelApi {
  /** Run an engine action (export, sweep, …) and get its result. */
  action(name: string, args?: Record<string, unknown>): Promise<{ files?: LabFile[]; value?: unknown }>;
  /** The current settings. */
  settings(): Settings;
  /** Charts registered here are offered as CSV. */
  addChart(name: string, chart: Chart): void;
  /** Restart the engine with these files (an imported checkpoint or uploaded data). */
  resetWith(files: readonly LabFile[]): void;
}

/** A panel's drawing side. */
export interface PanelView {
  render(snapshot: Snapshot, steps: number, running: boolean): void;
  destroy?(): void;
}

/** A panel. */
export interface PanelSpec {
  readonly id: string;
  readonly title: string;
  readonly engine: string;
  readonly blurb: string;
  readonly controls: readonly Control[];
  readonly actions?: readonly ActionButton[];
  /** File kinds the panel can import (e.g. '.json,.safetensors'), with a label. */
  readonly importFiles?: { readonly label: string; readonly accept: string };
  /**
   * The command line that does what this panel does, as a `--config` file's contents
   * (`genphys --config FILE` runs it unchanged).
   */
  cli?(settings: Settings): CliConfig;
  build(root: HTMLElement, api: PanelApi): PanelView;
}

/** A `genphys --config FILE` document. */
export interface CliConfig {
  /** The command, e.g. 'rbm train'. */
  readonly genphys: string;
  /** Its flags, without the leading --; `true` is a bare switch. */
  readonly flags: Record<string, string | number | boolean>;
}

/** Settings with every control's default filled in and values typed as the control says. */
export function resolveSettings(spec: PanelSpec, given: Settings): Settings {
  const out: Settings = { seed: typeof given.seed === 'number' ? given.seed : 1 };
  for (const c of spec.controls) {
    const v = given[c.key];
    if (v === undefined) out[c.key] = c.default;
    else if (c.kind === 'checkbox') out[c.key] = v === true || v === 'true' || v === 1;
    else if (c.kind === 'select') out[c.key] = selectValue(c, c.options?.includes(String(v)) ? String(v) : String(c.default));
    else out[c.key] = Number.isFinite(Number(v)) ? Number(v) : c.default;
  }
  return out;
}

/** A select's value: a number when every choice is one (sizes such as L), else the string. */
function selectValue(c: Control, v: string): string | number {
  return (c.options ?? []).every((o) => /^-?\d+(\.\d+)?$/.test(o)) ? Number(v) : v;
}

/** A mounted panel: the worker and the DOM. */
export class PanelHost {
  private worker: Worker | null = null;
  private view: PanelView | null = null;
  private settings: Settings;
  private files: readonly LabFile[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: { files?: LabFile[]; value?: unknown }) => void; reject: (e: Error) => void }>();
  private readonly charts = new Map<string, Chart>();
  private readonly inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  private readonly status: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly errorBox: HTMLElement;
  private readonly playButton: HTMLButtonElement;
  private running = false;
  private lastSteps = 0;
  private rateT = performance.now();
  private rateSteps = 0;
  private rate = 0;
  /** Snapshots received (tests wait on this). */
  snapshots = 0;
  /** The last snapshot (tests read it). */
  last: { snapshot: Snapshot; steps: number; running: boolean } | null = null;

  constructor(
    readonly spec: PanelSpec,
    readonly root: HTMLElement,
    given: Settings,
    private readonly onSettings: (s: Settings) => void,
  ) {
    this.settings = resolveSettings(spec, given);
    root.innerHTML = '';
    const head = el('div', 'panel-head');
    head.append(el('h2', '', spec.title), el('p', 'blurb', spec.blurb));
    root.append(head);

    const bar = el('div', 'controls');
    this.playButton = button('▶ play', () => this.toggle(), 'play');
    bar.append(
      this.playButton,
      button('step', () => this.post({ type: 'step', n: 1 }), 'step'),
      button('reset', () => this.reset(), 'reset'),
    );
    bar.append(this.control({ key: 'seed', label: 'seed', kind: 'number', default: 1, min: 0, max: 2 ** 31, step: 1 }));
    for (const c of spec.controls) bar.append(this.control(c));
    root.append(bar);

    const info = el('div', 'status-row');
    this.badge = el('span', 'badge', 'backend: …');
    this.badge.dataset.testid = 'backend';
    this.status = el('span', 'status', 'starting…');
    this.status.dataset.testid = 'status';
    info.append(this.badge, this.status);
    root.append(info);
    this.errorBox = el('div', 'error');
    this.errorBox.dataset.testid = 'error';
    root.append(this.errorBox);

    const exports = el('div', 'exports');
    exports.append(button('settings JSON', () => this.exportConfig(), 'export-config'));
    for (const a of spec.actions ?? []) {
      const b = button(a.label, () => void this.runAction(a.name), `action-${a.name}`);
      if (a.help) b.title = a.help;
      exports.append(b);
    }
    exports.append(button('curves CSV', () => this.exportCsv(), 'export-csv'));
    if (spec.importFiles) {
      const label = el('label', 'import', `${spec.importFiles.label} `);
      const input = document.createElement('input');
      input.type = 'file';
      input.multiple = true;
      input.accept = spec.importFiles.accept;
      input.dataset.testid = 'import';
      input.onchange = async () => {
        if (input.files && input.files.length > 0) this.resetWith(await readFiles(input.files));
      };
      label.append(input);
      exports.append(label);
    }
    root.append(exports);

    const body = el('div', 'panel-body');
    root.append(body);
    const api: PanelApi = {
      action: (name, args) => this.action(name, args),
      settings: () => ({ ...this.settings }),
      addChart: (name, chart) => void this.charts.set(name, chart),
      resetWith: (files) => this.resetWith(files),
    };
    this.view = spec.build(body, api);
    this.start();
  }

  private control(c: Control): HTMLElement {
    const wrap = el('label', 'control', `${c.label} `);
    if (c.help) wrap.title = c.help;
    let input: HTMLInputElement | HTMLSelectElement;
    const value = this.settings[c.key] ?? c.default;
    if (c.kind === 'select') {
      const sel = document.createElement('select');
      for (const o of c.options ?? []) sel.append(new Option(o, o));
      sel.value = String(value);
      input = sel;
    } else {
      const inp = document.createElement('input');
      inp.type = c.kind === 'range' ? 'range' : c.kind === 'checkbox' ? 'checkbox' : 'number';
      if (c.min !== undefined) inp.min = String(c.min);
      if (c.max !== undefined) inp.max = String(c.max);
      if (c.step !== undefined) inp.step = String(c.step);
      if (c.kind === 'checkbox') inp.checked = value === true;
      else inp.value = String(value);
      input = inp;
    }
    input.dataset.testid = `control-${c.key}`;
    const shown = c.kind === 'range' ? el('span', 'range-value', String(value)) : null;
    const apply = () => {
      const v = c.kind === 'checkbox' ? (input as HTMLInputElement).checked : c.kind === 'select' ? selectValue(c, input.value) : Number(input.value);
      if (typeof v === 'number' && !Number.isFinite(v)) return;
      this.settings = { ...this.settings, [c.key]: v };
      if (shown) shown.textContent = String(v);
      this.onSettings(this.settings);
      if (c.live) this.post({ type: 'set', settings: { [c.key]: v } });
      else this.reset();
    };
    input.addEventListener(c.kind === 'range' ? 'input' : 'change', apply);
    this.inputs.set(c.key, input);
    wrap.append(input);
    if (shown) wrap.append(shown);
    return wrap;
  }

  private start(): void {
    this.worker?.terminate();
    for (const p of this.pending.values()) p.reject(new Error('the panel was reset'));
    this.pending.clear();
    this.running = false;
    this.playButton.textContent = '▶ play';
    this.errorBox.textContent = '';
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.receive(ev.data);
    this.worker.onerror = (ev) => this.showError(ev.message || 'the worker failed to start');
    this.post({ type: 'init', engine: this.spec.engine, settings: this.settings, files: this.files });
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.badge.textContent = `backend: ${m.backend}${m.info ? ` (auto ${m.info})` : ''}`;
        this.badge.dataset.backend = m.backend;
        return;
      case 'snapshot': {
        this.snapshots++;
        this.last = { snapshot: m.data, steps: m.steps, running: m.running };
        const now = performance.now();
        if (now - this.rateT > 500) {
          this.rate = ((m.steps - this.rateSteps) * 1000) / (now - this.rateT);
          this.rateT = now;
          this.rateSteps = m.steps;
        }
        this.lastSteps = m.steps;
        this.status.textContent = `${m.steps} steps${this.running && this.rate > 0 ? ` · ${this.rate.toFixed(this.rate < 10 ? 1 : 0)} steps/s` : ''}`;
        this.view?.render(m.data, m.steps, m.running);
        return;
      }
      case 'result': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve({ ...(m.files ? { files: [...m.files] } : {}), ...(m.value !== undefined ? { value: m.value } : {}) });
        return;
      }
      case 'error': {
        if (m.id !== undefined) {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          p?.reject(new Error(m.message));
        }
        this.running = false;
        this.playButton.textContent = '▶ play';
        this.showError(m.message);
        return;
      }
    }
  }

  private showError(message: string): void {
    this.errorBox.textContent = message;
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  /** The resolved settings (what the URL holds). */
  settingsNow(): Settings {
    return { ...this.settings };
  }

  /** Play or pause. */
  toggle(): void {
    this.running = !this.running;
    this.playButton.textContent = this.running ? '❚❚ pause' : '▶ play';
    this.rateT = performance.now();
    this.rateSteps = this.lastSteps;
    this.post({ type: this.running ? 'play' : 'pause' });
  }

  /** Restart the engine with the current settings (and files). */
  reset(): void {
    this.snapshots = 0;
    this.last = null;
    this.rate = 0;
    this.rateSteps = 0;
    this.lastSteps = 0;
    this.start();
  }

  /** Restart with imported files (a checkpoint, a data file). */
  resetWith(files: readonly LabFile[]): void {
    this.files = files;
    this.reset();
  }

  action(name: string, args?: Record<string, unknown>): Promise<{ files?: LabFile[]; value?: unknown }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'action', name, id, ...(args ? { args } : {}) });
    });
  }

  private async runAction(name: string): Promise<void> {
    try {
      const r = await this.action(name);
      if (r.files && r.files.length > 0) downloadFiles(r.files);
    } catch (e) {
      this.showError((e as Error).message);
    }
  }

  /** The settings as a `genphys --config` file (with the lab's own settings kept beside). */
  configDocument(): Record<string, unknown> {
    return { ...(this.spec.cli ? this.spec.cli(this.settings) : {}), lab: { panel: this.spec.id, ...this.settings } };
  }

  private exportConfig(): void {
    downloadFiles([{ name: `${this.spec.id}-config.json`, bytes: JSON.stringify(this.configDocument(), null, 2) + '\n', type: 'application/json' }]);
  }

  private exportCsv(): void {
    downloadFiles([...this.charts].map(([name, c]) => ({ name: `${this.spec.id}-${name}.csv`, bytes: c.toCsv(), type: 'text/csv' })));
  }

  /** Stop the worker and clear the DOM. */
  destroy(): void {
    this.worker?.terminate();
    this.worker = null;
    this.view?.destroy?.();
    for (const c of this.charts.values()) c.destroy();
    this.root.innerHTML = '';
  }
}

/** A DOM element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(label: string, onClick: () => void, testid: string): HTMLButtonElement {
  const b = el('button', '', label);
  b.type = 'button';
  b.dataset.testid = testid;
  b.onclick = onClick;
  return b;
}
