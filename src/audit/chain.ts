/**
 * The hash chain: each line's hash covers the previous line's hash and the line's own content,
 * so editing, removing or reordering a line breaks the chain at that line.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../message/payload.ts';
import type { AuditRecord } from './record.ts';

export const GENESIS = '0'.repeat(64);

export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export type VerifyResult = { ok: true; records: number } | { ok: false; line: number; reason: string };

export function verifyLines(lines: readonly string[]): VerifyResult {
  let prev = GENESIS;
  let count = 0;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    const number = index + 1;
    if (line === '' && index === lines.length - 1) break;
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      return { ok: false, line: number, reason: 'not valid JSON (edited or truncated)' };
    }
    if (typeof record !== 'object' || record === null || typeof record.hash !== 'string' || typeof record.prev !== 'string') {
      return { ok: false, line: number, reason: 'not an audit record (no hash / prev)' };
    }
    const { hash, ...rest } = record;
    // After a prune, the first line is an anchor that carries the hash of the last pruned line
    // (the chain continues from it). A forged anchor over a cut head is the known limit of any
    // chain without an outside witness; every line after it is still fully checked.
    if (index === 0 && record.action === 'anchor') {
      prev = hash;
      count += 1;
      continue;
    }
    if (recordHash(rest) !== hash) return { ok: false, line: number, reason: 'content does not match its hash (the line was edited)' };
    if (record.prev !== prev) {
      return { ok: false, line: number, reason: 'does not follow the line before it (a line was removed, inserted or reordered)' };
    }
    prev = hash;
    count += 1;
  }
  return { ok: true, records: count };
}
