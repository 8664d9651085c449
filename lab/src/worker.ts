/**
 * The lab's training worker: one per open panel. It runs the engine's steps while playing,
 * posts a snapshot at most every 33 ms (≤ 30 Hz) with its arrays transferred, and yields
 * to its message queue between steps so pause, step and live settings act at once.
 */
import type { Engine, EngineFactory } from './engine.js';
import type { FromWorker, ToWorker } from './protocol.js';

const ENGINES: Record<string, () => Promise<{ create: EngineFactory }>> = {
  ising: () => import('./engines/ising.js'),
  rbm: () => import('./engines/rbm.js'),
  vae: () => import('./engines/vae.js'),
  gan: () => import('./engines/gan.js'),
  diffusion: () => import('./engines/diffusion.js'),
};

const SNAPSHOT_MS = 33;
const TFJS_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
const post = (m: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);

let engine: Engine | null = null;
let running = false;
let looping = false;
let lastSnapshot = -Infinity;
let pendingSteps = 0;
/** Messages are handled one at a time, in order (init is async). */
let queue: Promise<void> = Promise.resolve();

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function sendSnapshot(): Promise<void> {
  if (!engine) return;
  const { data, transfer } = await engine.snapshot();
  lastSnapshot = performance.now();
  post({ type: 'snapshot', steps: engine.steps, running, data }, transfer);
}

/** A macrotask boundary, so queued messages run between steps. */
const yieldToMessages = (): Promise<void> =>
  new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => r();
    ch.port2.postMessage(0);
  });

async function loop(): Promise<void> {
  if (looping) return;
  looping = true;
  try {
    let sentIdle = false;
    while (engine && (running || pendingSteps > 0)) {
      await engine.step();
      if (pendingSteps > 0) pendingSteps--;
      const done = !running && pendingSteps === 0;
      if (done || performance.now() - lastSnapshot >= SNAPSHOT_MS) {
        await sendSnapshot();
        sentIdle = done;
      }
      await yieldToMessages();
    }
    // A pause handled while yielding ends the loop here, after a snapshot that still said
    // "running": the page gets the idle state of the last step.
    if (!sentIdle) await sendSnapshot();
  } catch (e) {
    running = false;
    pendingSteps = 0;
    post({ type: 'error', message: errorText(e) });
  } finally {
    looping = false;
  }
}

/** Stop the loop and wait until its current step is over (the engine is then idle). */
async function halt(): Promise<boolean> {
  const was = running;
  running = false;
  while (looping) await new Promise((r) => setTimeout(r, 1));
  return was;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      await halt();
      pendingSteps = 0;
      engine?.dispose?.();
      engine = null;
      const load = ENGINES[m.engine];
      if (!load) throw new Error(`no engine '${m.engine}'`);
      engine = await (await load()).create(m.settings, m.files ?? []);
      // A tfjs engine has loaded tf-backend already; say why 'auto' passed a backend over.
      const info = (TFJS_BACKENDS as readonly string[]).includes(engine.backend) ? (await import('./tf-backend.js')).backendNote : '';
      post({ type: 'ready', backend: engine.backend, ...(info ? { info } : {}) });
      await sendSnapshot();
      return;
    }
    case 'play':
      running = true;
      void loop();
      return;
    case 'pause':
      running = false;
      if (!looping) await sendSnapshot();
      return;
    case 'step':
      pendingSteps += m.n ?? 1;
      void loop();
      return;
    case 'set':
      // Settings change between steps, never during one.
      if (looping) {
        const was = await halt();
        engine?.set?.(m.settings);
        if (was) {
          running = true;
          void loop();
        }
        return;
      }
      engine?.set?.(m.settings);
      if (!running) await sendSnapshot();
      return;
    case 'action': {
      if (!engine?.action) throw new Error(`this panel has no action '${m.name}'`);
      // Actions (exports, sweeps) see an idle engine, never one mid-step.
      const was = await halt();
      try {
        const r = await engine.action(m.name, m.args);
        const transfer = (r.files ?? []).flatMap((f) => (typeof f.bytes === 'string' ? [] : [f.bytes.buffer as ArrayBuffer]));
        post({ type: 'result', id: m.id, ...r }, transfer);
        await sendSnapshot();
      } finally {
        if (was) {
          running = true;
          void loop();
        }
      }
      return;
    }
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  queue = queue.then(() =>
    handle(m).catch((e: unknown) => post({ type: 'error', message: errorText(e), ...(m.type === 'action' ? { id: m.id } : {}) })),
  );
};
