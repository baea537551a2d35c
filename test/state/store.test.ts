/**
 * The state store: strict reads (a corrupt file blocks and is never reset), atomic writes of only
 * what changed, the approval key (0600, stable), and exact counting under concurrency.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/store.ts';
import { workers } from './support/spawn.ts';

let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sendgate-store-'));
  store = new StateStore(join(dir, 'state'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('transaction', () => {
  it('writes back only the files that changed, atomically, leaving no temp files', async () => {
    await store.transaction(['rate', 'outbox'], (state) => {
      state.rate.events.push({ at: 1, key: 'k', skill: 'send' });
    });
    expect(existsSync(store.path('rate'))).toBe(true);
    expect(existsSync(store.path('outbox'))).toBe(false);
    expect(store.read('rate').events).toEqual([{ at: 1, key: 'k', skill: 'send' }]);
    expect(statSync(store.path('rate')).mode & 0o777).toBe(0o600);
    expect(readdirSync(store.dir).filter((name) => name.endsWith('.tmp') || name.endsWith('.lock'))).toEqual([]);
  });

  it('a file that is not JSON blocks with STATE_CORRUPT naming it, and is left as it was', async () => {
    await store.transaction(['rate'], (state) => void state.rate.events.push({ at: 1, key: 'k', skill: 's' }));
    writeFileSync(store.path('rate'), '{"version":1,"ev');
    await expect(store.transaction(['rate'], (state) => void (state.rate.events = []))).rejects.toMatchObject({ code: 'STATE_CORRUPT', exitCode: 2, message: expect.stringContaining(store.path('rate')) });
    expect(readFileSync(store.path('rate'), 'utf8')).toBe('{"version":1,"ev');
  });

  it('a file with the wrong shape blocks with the key path', () => {
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.path('outbox'), JSON.stringify({ version: 1, records: { a: { id: 'a', status: 'lost' } } }));
    expect(() => store.read('outbox')).toThrow(/records\.a\./);
    writeFileSync(store.path('approvals'), JSON.stringify({ version: 2, pending: {}, consumed: {} }));
    expect(() => store.read('approvals')).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }));
  });

  it('an outbox written before owner_pid / lease_until existed still reads', () => {
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.path('outbox'), JSON.stringify({ version: 1, records: { cp_1: {
      id: 'cp_1', idempotency_key: 'sendgate-cp_1', digest: 'd', skill: 'send', protocol: 'http', destination: 'x', approval_id: null, status: 'sending',
      attempts: 0, created_at: 'c', updated_at: 'u', response_code: null, confirmation: null, error: null, delivered_at: null,
    } } }));
    expect(store.read('outbox').records.cp_1).toMatchObject({ owner_pid: null, lease_until: null });
  });

  it('is exact under concurrency: 25 processes racing for a limit of 5 take exactly 5 slots', async () => {
    const results = await workers(25, 'rate', store.dir);
    expect(results.filter((result) => result === 'sent')).toHaveLength(5);
    expect(results.filter((result) => result === 'limited')).toHaveLength(20);
    expect(store.read('rate').events).toHaveLength(5);
  }, 60_000);
});

describe('hmacKey', () => {
  it('is created once, 0600, and stays the same', async () => {
    const key = await store.hmacKey();
    expect(key).toHaveLength(32);
    const path = join(store.dir, 'approval.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await new StateStore(store.dir).hmacKey()).equals(key)).toBe(true);
    const all = await Promise.all(Array.from({ length: 10 }, () => new StateStore(store.dir).hmacKey()));
    for (const other of all) expect(other.equals(key)).toBe(true);
  });

  it('a key others can read, or a damaged key, is refused and left alone', async () => {
    await store.hmacKey();
    const path = join(store.dir, 'approval.key');
    chmodSync(path, 0o644);
    await expect(store.hmacKey()).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringContaining('chmod 600') });
    writeFileSync(path, 'c2hvcnQ=\n', { mode: 0o600 });
    chmodSync(path, 0o600);
    await expect(store.hmacKey()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    expect(readFileSync(path, 'utf8')).toBe('c2hvcnQ=\n');
  });
});
