/**
 * `genphys lab`: serve the browser lab on 127.0.0.1 and print its URL.
 */
import type { Command } from 'commander';
import { isLoopback, serveLab } from '../serve/lab.js';
import { globals, intArg } from './common.js';

/** Register `genphys lab`. */
export function register(program: Command): void {
  program
    .command('lab')
    .description('serve the browser lab (every model family training live in a Web Worker) on 127.0.0.1 and print its URL')
    .option('--port <n>', 'port to listen on (0 picks a free one)', intArg(0, 65535), 0)
    .option('--host <address>', 'interface to bind; anything but 127.0.0.1/localhost exposes the lab to your network', '127.0.0.1')
    .option('--dir <path>', 'the built lab folder (default: the one installed with genphys)')
    .action(async (o: { port: number; host: string; dir?: string }, cmd: Command) => {
      const g = globals(cmd);
      if (!isLoopback(o.host)) process.stderr.write(`genphys lab: warning: --host ${o.host} makes the lab reachable from other machines\n`);
      const s = await serveLab({ host: o.host, port: o.port, ...(o.dir ? { dir: o.dir } : {}) });
      process.stdout.write(`${s.url}\n`);
      if (!g.quiet) process.stderr.write('genphys lab: serving; Ctrl-C stops it\n');
      await new Promise<void>((done) => {
        const stop = () => void s.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
