import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const WORKER = join(ROOT, 'test', 'state', 'support', 'worker.ts');

/** Run `count` workers at once; resolves with their stdout (rejects if any fails). */
export function workers(count: number, job: string, dir: string, n = 1): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<string>((done, fail) => {
    execFile(TSX, [WORKER, job, dir, String(n)], { timeout: 60_000 }, (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)));
  })));
}
