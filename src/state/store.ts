/**
 * The state directory: one lock, several small JSON files, each read strictly and written
 * atomically inside a transaction. Nothing is lost or double-counted when many processes race.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BlockedError } from '../errors.ts';
import { ensureDir, readJsonFile, writeFileAtomic, writeJsonFile } from './files.ts';
import { withLock } from './lock.ts';
import { stateDir } from './paths.ts';

const pendingApproval = z.object({
  id: z.string(),
  digest: z.string(),
  skill: z.string(),
  protocol: z.string(),
  destination: z.string(),
  summary: z.string(),
  reason: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  /** Set once a human approved it (the token itself is never stored). */
  approved_at: z.string().nullable().default(null),
  approved_via: z.string().nullable().default(null),
  kind: z.enum(['approval', 'first_contact']).default('approval'),
});
export type PendingApproval = z.infer<typeof pendingApproval>;

const approvalsFile = z.object({
  version: z.literal(1),
  pending: z.record(z.string(), pendingApproval),
  consumed: z.record(z.string(), z.string()),
});

const rateFile = z.object({
  version: z.literal(1),
  events: z.array(z.object({ at: z.number(), key: z.string(), skill: z.string() })),
  cooldown_until: z.number().nullable(),
  cooldown_reason: z.string().nullable().default(null),
});

const outboxRecord = z.object({
  id: z.string(),
  idempotency_key: z.string(),
  digest: z.string(),
  skill: z.string(),
  protocol: z.string(),
  destination: z.string(),
  approval_id: z.string().nullable(),
  status: z.enum(['pending', 'sending', 'delivered', 'failed']),
  attempts: z.number().int().nonnegative(),
  created_at: z.string(),
  updated_at: z.string(),
  response_code: z.number().nullable(),
  confirmation: z.string().nullable(),
  error: z.string().nullable(),
  delivered_at: z.string().nullable(),
  /** While `sending`: the process delivering it and until when (ms); a dead owner means a crash mid-send. */
  owner_pid: z.number().int().nullable().default(null),
  lease_until: z.number().nullable().default(null),
});
export type OutboxRecord = z.infer<typeof outboxRecord>;

const outboxFile = z.object({ version: z.literal(1), records: z.record(z.string(), outboxRecord) });

const contactsFile = z.object({
  version: z.literal(1),
  /** Contacts the human said "always" for, and contacts already confirmed once. */
  always: z.record(z.string(), z.string()),
  confirmed: z.record(z.string(), z.string()),
});

export const STATE_FILES = {
  approvals: { file: 'approvals.json', schema: approvalsFile, empty: () => ({ version: 1 as const, pending: {}, consumed: {} }) },
  rate: { file: 'rate.json', schema: rateFile, empty: () => ({ version: 1 as const, events: [], cooldown_until: null, cooldown_reason: null }) },
  outbox: { file: 'outbox.json', schema: outboxFile, empty: () => ({ version: 1 as const, records: {} }) },
  contacts: { file: 'contacts.json', schema: contactsFile, empty: () => ({ version: 1 as const, always: {}, confirmed: {} }) },
};

type Files = typeof STATE_FILES;
export type StateName = keyof Files;
export type StateData<N extends StateName> = z.infer<Files[N]['schema']>;

export class StateStore {
  readonly dir: string;

  constructor(dir: string = stateDir()) {
    this.dir = dir;
  }

  path(name: StateName): string {
    return join(this.dir, STATE_FILES[name].file);
  }

  /** Read without the lock: a consistent snapshot of one file (writes are atomic renames). */
  read<N extends StateName>(name: N): StateData<N> {
    const spec = STATE_FILES[name];
    return readJsonFile(this.path(name), spec.schema, spec.empty) as StateData<N>;
  }

  /**
   * Run `work` under the state lock with the named files loaded; every file whose content changed
   * is written back atomically before the lock is released.
   */
  async transaction<N extends StateName, T>(names: readonly N[], work: (data: { [K in N]: StateData<K> }) => T | Promise<T>): Promise<T> {
    ensureDir(this.dir);
    return withLock(join(this.dir, 'state.lock'), async () => {
      const data = {} as { [K in N]: StateData<K> };
      const before = new Map<N, string>();
      for (const name of names) {
        data[name] = this.read(name);
        before.set(name, JSON.stringify(data[name]));
      }
      const result = await work(data);
      for (const name of names) {
        if (JSON.stringify(data[name]) !== before.get(name)) writeJsonFile(this.path(name), data[name]);
      }
      return result;
    });
  }

  /** The HMAC key approvals are bound with. Created once (0600); the model never sees it. */
  async hmacKey(): Promise<Buffer> {
    const path = join(this.dir, 'approval.key');
    const existing = this.readKey(path);
    if (existing) return existing;
    return this.transaction([], () => {
      const again = this.readKey(path);
      if (again) return again;
      const key = randomBytes(32);
      writeFileAtomic(path, `${key.toString('base64')}\n`, 0o600);
      return key;
    });
  }

  private readKey(path: string): Buffer | null {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new BlockedError('STATE_UNAVAILABLE', `cannot read the approval key ${path} (${(error as NodeJS.ErrnoException).code})`);
    }
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new BlockedError('STATE_CORRUPT', `the approval key ${path} is readable by other users; chmod 600 it (or remove it to start over: pending approvals are then void)`);
    }
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== 32) throw new BlockedError('STATE_CORRUPT', `the approval key ${path} is corrupt; remove it to start over (pending approvals are then void)`);
    return key;
  }
}
