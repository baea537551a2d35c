/**
 * The cross-process state lock: mutual exclusion (in one process and across processes), takeover
 * of a lock whose owner died (kill -9) or hangs past staleMs, and no takeover of a lock that is
 * being created right now (the owner has created the file and not yet written its pid).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processAlive, withLock } from '../../src/state/lock.ts';
import { deadPid } from '../pipeline/helpers.ts';
import { workers } from './support/spawn.ts';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sendgate-lock-'));
  lock = join(dir, 'state.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('withLock', () => {
  it('serialises read-modify-write within one process', async () => {
    let value = 0;
    let inside = 0;
    let maxInside = 0;
    await Promise.all(Array.from({ length: 40 }, () => withLock(lock, async () => {
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      const read = value;
      await new Promise((resolve) => setTimeout(resolve, 1));
      value = read + 1;
      inside -= 1;
    })));
    expect(value).toBe(40);
    expect(maxInside).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('serialises read-modify-write across processes (10 processes x 20 increments)', async () => {
    writeFileSync(join(dir, 'counter'), '0');
    await workers(10, 'counter', dir, 20);
    expect(readFileSync(join(dir, 'counter'), 'utf8')).toBe('200');
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it('takes over a lock whose owner died (kill -9 leaves the file behind)', async () => {
    const pid = deadPid();
    expect(processAlive(pid)).toBe(false);
    writeFileSync(lock, `${pid} ${Date.now()}`);
    const started = Date.now();
    const result = await withLock(lock, () => 'mine', { timeoutMs: 2_000 });
    expect(result).toBe('mine');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a live owner that has held the lock longer than staleMs (presumed hung)', async () => {
    writeFileSync(lock, `${process.pid} ${Date.now() - 10_000}`);
    expect(await withLock(lock, () => 'mine', { timeoutMs: 1_000, staleMs: 5_000 })).toBe('mine');
  });

  it('waits for a live owner, then blocks with STATE_LOCKED', async () => {
    const owner = `${process.pid} ${Date.now()}`;
    writeFileSync(lock, owner);
    await expect(withLock(lock, () => 'never', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'STATE_LOCKED', exitCode: 2 });
    expect(readFileSync(lock, 'utf8')).toBe(owner);
  });

  it('does not steal a lock file that was just created and has no pid in it yet', async () => {
    writeFileSync(lock, '');
    await expect(withLock(lock, () => 'stolen', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    expect(existsSync(lock)).toBe(true);
  });

  it('takes over an empty lock file left behind for a while (its creator died before writing)', async () => {
    writeFileSync(lock, '');
    const past = new Date(Date.now() - 5_000);
    utimesSync(lock, past, past);
    expect(await withLock(lock, () => 'mine', { timeoutMs: 1_000 })).toBe('mine');
  });

  it('releases the lock when the work throws', async () => {
    await expect(withLock(lock, () => {
      throw new Error('inside');
    })).rejects.toThrow('inside');
    expect(existsSync(lock)).toBe(false);
    expect(await withLock(lock, () => 'again', { timeoutMs: 200 })).toBe('again');
  });

  it('does not remove a lock that another process took over meanwhile', async () => {
    await withLock(lock, () => {
      writeFileSync(lock, `${process.pid + 1} ${Date.now()}`); // as if taken over while we were presumed hung
    });
    expect(existsSync(lock)).toBe(true);
  });

  it('a lock that cannot be created blocks with STATE_UNAVAILABLE', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    await expect(withLock(join(file, 'state.lock'), () => 1)).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE', exitCode: 2 });
  });
});
