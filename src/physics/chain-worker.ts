/**
 * Worker-thread entry point for {@link runChain}: receives `{ index, task }`,
 * posts progress messages and finally `{ type: 'done', index, out }` with the
 * output's buffers transferred (not copied).
 */
import { parentPort } from 'node:worker_threads';
import { runChain, type ChainJob } from './chains.js';

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: { index: number; task: ChainJob }) => {
    try {
      const out = runChain(msg.task, (amount) => port.postMessage({ type: 'progress', amount }));
      port.postMessage({ type: 'done', index: msg.index, out }, [out.e.buffer, out.m.buffer, out.samples.buffer, out.gSum.buffer] as ArrayBuffer[]);
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
}
