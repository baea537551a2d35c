/**
 * The append-only audit log (JSONL). Appends run under the log's own lock, read the last line's
 * hash and write one complete line, so concurrent writers never interleave or fork the chain.
 * An audit log that cannot be written blocks the send: no audit, no send.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync, fsyncSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Policy } from '../config/schema.ts';
import { BlockedError } from '../errors.ts';
import { newId } from '../state/approvals.ts';
import { writeFileAtomic } from '../state/files.ts';
import { withLock } from '../state/lock.ts';
import { GENESIS, recordHash, verifyLines, type VerifyResult } from './chain.ts';
import type { AuditInput, AuditRecord } from './record.ts';

export function auditPath(policy: Policy, stateDirectory: string): string {
  return policy.audit.path ?? join(stateDirectory, 'audit', 'sendgate.jsonl');
}

function lastHash(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return GENESIS;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return GENESIS;
    // Lines are small; read a tail big enough to hold the last whole line.
    let chunk = 16_384;
    for (;;) {
      const length = Math.min(chunk, size);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const text = buffer.toString('utf8').replace(/\n+$/, '');
      const newline = text.lastIndexOf('\n');
      if (newline >= 0 || length === size) {
        const line = text.slice(newline + 1);
        const record = JSON.parse(line) as AuditRecord;
        if (typeof record.hash !== 'string') throw new Error('last line has no hash');
        return record.hash;
      }
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

export async function appendAudit(path: string, input: AuditInput): Promise<AuditRecord> {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return await withLock(`${path}.lock`, () => {
      const prev = lastHash(path);
      const { timestamp, ...fields } = input;
      const unhashed = { id: newId('au'), timestamp: timestamp ?? new Date().toISOString(), ...fields, prev };
      const record = { ...unhashed, hash: recordHash(unhashed) } as AuditRecord;
      const fd = openSync(path, 'a', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(record)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return record;
    });
  } catch (error) {
    if (error instanceof BlockedError) throw error;
    throw new BlockedError('AUDIT_UNAVAILABLE', `cannot write the audit log ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); no audit, no send — fix the path (audit.path) or its permissions`, { cause: error });
  }
}

export function readAuditLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n');
}

export function verifyAudit(path: string): VerifyResult {
  return verifyLines(readAuditLines(path));
}

/** Drop records older than `retentionDays`, leaving an anchor so the rest still verifies. */
export async function pruneAudit(path: string, retentionDays: number, now = new Date()): Promise<{ removed: number; kept: number }> {
  return withLock(`${path}.lock`, () => {
    const lines = readAuditLines(path).filter((line) => line !== '');
    const verdict = verifyLines(lines);
    if (!verdict.ok) throw new BlockedError('AUDIT_TAMPERED', `refusing to prune: line ${verdict.line} ${verdict.reason}`);
    const cutoff = now.getTime() - retentionDays * 86_400_000;
    const records = lines.map((line) => JSON.parse(line) as AuditRecord);
    const firstKept = records.findIndex((record) => record.action !== 'anchor' && Date.parse(record.timestamp) >= cutoff);
    const removeCount = firstKept === -1 ? records.length : firstKept;
    if (removeCount === 0) return { removed: 0, kept: records.length };
    const kept = records.slice(removeCount);
    const lastRemoved = records[removeCount - 1]!;
    // The anchor's hash must be what the first kept record points back to.
    const anchorBody = { id: newId('au'), timestamp: now.toISOString(), skill: 'sendgate', action: 'anchor' as const, triggered_by: 'audit prune', result: `pruned ${removeCount} record(s) older than ${retentionDays} days`, prev: lastRemoved.prev };
    const anchor = { ...anchorBody, hash: lastRemoved.hash };
    const text = [anchor, ...kept].map((record) => JSON.stringify(record)).join('\n') + '\n';
    writeFileAtomic(path, text);
    return { removed: removeCount, kept: kept.length };
  });
}
