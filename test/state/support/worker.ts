/**
 * A child process for the concurrency tests: `tsx worker.ts <job> <dir> <n>`.
 *   counter  n read-modify-write increments of <dir>/counter under the state lock
 *   rate     one transaction against a limit of 5 per minute (prints "sent" or "limited")
 *   audit    n audit records appended to <dir>/audit.jsonl
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendAudit } from '../../../src/audit/log.ts';
import { withLock } from '../../../src/state/lock.ts';
import { checkRate, recordSend } from '../../../src/state/rate-limit.ts';
import { StateStore } from '../../../src/state/store.ts';

const [job, dir, countText] = process.argv.slice(2) as [string, string, string];
const count = Number(countText ?? '1');

if (job === 'counter') {
  const file = join(dir, 'counter');
  for (let i = 0; i < count; i += 1) {
    await withLock(join(dir, 'state.lock'), async () => {
      const value = Number(readFileSync(file, 'utf8'));
      await new Promise((resolve) => setImmediate(resolve)); // widen the window a racing writer would need
      writeFileSync(file, String(value + 1));
    });
  }
} else if (job === 'rate') {
  const store = new StateStore(dir);
  const result = await store.transaction(['rate'], (state) => {
    const now = Date.now();
    const decision = checkRate(state.rate, [{ name: 'per minute', count: 5, windowMs: 60_000, key: null }], now, 60);
    if (decision.ok) recordSend(state.rate, 'http:x', 'send', now);
    return decision.ok ? 'sent' : 'limited';
  });
  process.stdout.write(result);
} else if (job === 'audit') {
  for (let i = 0; i < count; i += 1) {
    await appendAudit(join(dir, 'audit.jsonl'), { skill: 'send', action: 'decision', triggered_by: `worker-${process.pid}`, result: `r${i}` });
  }
} else {
  throw new Error(`unknown job ${job}`);
}
