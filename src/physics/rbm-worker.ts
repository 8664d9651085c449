/**
 * Worker-thread entry point for {@link trainAndSampleRbm}: receives
 * `{ index, task }`, posts `{ type: 'progress', amount }` messages and finally
 * `{ type: 'done', index, out }`.
 */
import { parentPort } from 'node:worker_threads';
import { trainAndSampleRbm, type RbmTask } from './rbm-pipeline.js';

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: { index: number; task: RbmTask }) => {
    trainAndSampleRbm(msg.task, (amount) => port.postMessage({ type: 'progress', amount })).then(
      (out) => port.postMessage({ type: 'done', index: msg.index, out }),
      (err: unknown) => port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
  });
}
