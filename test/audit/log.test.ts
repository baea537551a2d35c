/**
 * The audit log: hash-chained JSONL. verify names the first bad line for an edited, removed,
 * reordered, inserted or truncated record; prune keeps the rest verifiable; concurrent writers
 * (20 processes) never interleave or lose lines; an unwritable path is AUDIT_UNAVAILABLE.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordHash, verifyLines } from '../../src/audit/chain.ts';
import { appendAudit, pruneAudit, verifyAudit } from '../../src/audit/log.ts';
import { preview } from '../../src/audit/preview.ts';
import type { AuditInput, AuditRecord } from '../../src/audit/record.ts';
import { workers } from '../state/support/spawn.ts';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sendgate-audit-'));
  path = join(dir, 'audit', 'sendgate.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const input = (n: number, timestamp?: string): AuditInput => ({
  skill: 'send', action: 'delivery', protocol: 'http', destination: 'https://hooks.example.com/x', body_hash: 'f'.repeat(64), body_preview: `message ${n}`,
  triggered_by: 'test', result: 'sent', ...(timestamp ? { timestamp } : {}),
});

async function log(count: number, timestamps: string[] = []): Promise<string[]> {
  for (let i = 0; i < count; i += 1) await appendAudit(path, input(i + 1, timestamps[i]));
  return readFileSync(path, 'utf8').trim().split('\n');
}

const write = (lines: string[]) => writeFileSync(path, `${lines.join('\n')}\n`);

describe('verify', () => {
  it('an intact log verifies; each record points back at the one before', async () => {
    const lines = await log(5);
    expect(verifyAudit(path)).toEqual({ ok: true, records: 5 });
    const records = lines.map((line) => JSON.parse(line) as AuditRecord);
    expect(records[0]!.prev).toBe('0'.repeat(64));
    for (let i = 1; i < records.length; i += 1) expect(records[i]!.prev).toBe(records[i - 1]!.hash);
    const { hash, ...rest } = records[2]!;
    expect(recordHash(rest)).toBe(hash);
  });

  it('an edited record is named by its line number', async () => {
    const lines = await log(5);
    lines[2] = lines[2]!.replace('"result":"sent"', '"result":"failed"');
    write(lines);
    expect(verifyAudit(path)).toEqual({ ok: false, line: 3, reason: expect.stringContaining('edited') });
  });

  it('an edited record whose hash was recomputed breaks the link of the next line', async () => {
    const lines = await log(5);
    const record = JSON.parse(lines[1]!) as AuditRecord;
    const { hash: _old, ...rest } = { ...record, result: 'failed' };
    lines[1] = JSON.stringify({ ...rest, hash: recordHash(rest) });
    write(lines);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 3, reason: expect.stringContaining('removed, inserted or reordered') });
  });

  it('a removed record is named where the gap is (first, middle)', async () => {
    const lines = await log(5);
    write(lines.filter((_, index) => index !== 2));
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 3, reason: expect.stringContaining('removed') });
    write(lines.slice(1));
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 1 });
  });

  it('reordered records are named at the first one out of place', async () => {
    const lines = await log(5);
    write([lines[0]!, lines[1]!, lines[3]!, lines[2]!, lines[4]!]);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 3, reason: expect.stringContaining('reordered') });
  });

  it('an inserted, a truncated or a blank line is named', async () => {
    const lines = await log(3);
    write([lines[0]!, lines[0]!, lines[1]!, lines[2]!]);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 2 });
    write([lines[0]!, lines[1]!.slice(0, 40), lines[2]!]);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('not valid JSON') });
    write([lines[0]!, '', lines[1]!]);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 2 });
    write([lines[0]!, '{"a":1}']);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 2, reason: expect.stringContaining('no hash') });
  });

  it('verifyLines of nothing is an empty, intact chain', () => {
    expect(verifyLines([''])).toEqual({ ok: true, records: 0 });
  });
});

describe('prune', () => {
  const day = 86_400_000;
  const now = new Date('2026-03-31T00:00:00Z');
  const ago = (days: number) => new Date(now.getTime() - days * day).toISOString();

  it('drops records older than the retention, leaves an anchor, and the rest still verifies and extends', async () => {
    await log(5, [ago(100), ago(95), ago(40), ago(5), ago(1)]);
    expect(await pruneAudit(path, 30, now)).toEqual({ removed: 3, kept: 2 });
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ action: 'anchor', result: 'pruned 3 record(s) older than 30 days' });
    expect(verifyAudit(path)).toEqual({ ok: true, records: 3 });

    await appendAudit(path, input(6));
    expect(verifyAudit(path)).toEqual({ ok: true, records: 4 });
    // Pruning again (the anchor goes too) keeps it verifiable.
    expect(await pruneAudit(path, 3, now)).toEqual({ removed: 2, kept: 2 });
    expect(verifyAudit(path)).toEqual({ ok: true, records: 3 });
    // Tampering after a prune is still found.
    const after = readFileSync(path, 'utf8').trim().split('\n');
    after[1] = after[1]!.replace('message', 'massage');
    write(after);
    expect(verifyAudit(path)).toMatchObject({ ok: false, line: 2 });
  });

  it('nothing old: nothing changes', async () => {
    const lines = await log(3, [ago(2), ago(1), ago(0)]);
    expect(await pruneAudit(path, 30, now)).toEqual({ removed: 0, kept: 3 });
    expect(readFileSync(path, 'utf8').trim().split('\n')).toEqual(lines);
  });

  it('everything old: only the anchor is left, and the chain continues from it', async () => {
    await log(3, [ago(50), ago(40), ago(35)]);
    expect(await pruneAudit(path, 30, now)).toEqual({ removed: 3, kept: 0 });
    await appendAudit(path, input(4));
    expect(verifyAudit(path)).toEqual({ ok: true, records: 2 });
  });

  it('refuses to prune a tampered log (it would launder the evidence)', async () => {
    const lines = await log(3, [ago(50), ago(40), ago(1)]);
    write([lines[1]!, lines[0]!, lines[2]!]);
    await expect(pruneAudit(path, 30, now)).rejects.toMatchObject({ code: 'AUDIT_TAMPERED' });
  });
});

describe('writers', () => {
  it('20 concurrent processes appending: every line present, none interleaved, the chain intact', async () => {
    path = join(dir, 'audit', 'audit.jsonl'); // where the worker writes
    await workers(20, 'audit', join(dir, 'audit'), 10);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(200);
    const records = lines.map((line) => JSON.parse(line) as AuditRecord);
    expect(new Set(records.map((record) => record.id)).size).toBe(200);
    const perWorker = new Map<string, string[]>();
    for (const record of records) perWorker.set(record.triggered_by, [...(perWorker.get(record.triggered_by) ?? []), record.result]);
    expect(perWorker.size).toBe(20);
    for (const results of perWorker.values()) expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(verifyAudit(path)).toEqual({ ok: true, records: 200 });
  }, 60_000);

  it('concurrent appends in one process keep the chain too', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => appendAudit(path, input(i))));
    expect(verifyAudit(path)).toEqual({ ok: true, records: 30 });
  });

  it('an unwritable path is AUDIT_UNAVAILABLE (a block: no audit, no send)', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    await expect(appendAudit(join(file, 'audit.jsonl'), input(1))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE', exitCode: 2 });
  });

  it('a log whose last line is damaged is not extended (the chain would fork)', async () => {
    const lines = await log(2);
    write([lines[0]!, lines[1]!.slice(0, 30)]);
    await expect(appendAudit(path, input(3))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });
});

describe('preview', () => {
  it('flattens, truncates and masks token-like runs', () => {
    expect(preview('hello\n  world')).toBe('hello world');
    expect(preview('x'.repeat(200), 10)).toBe('xxxxxxxxxx…');
    expect(preview('ab12'.repeat(50), 300)).toBe('ab12…(200 chars)');
    expect(preview('key AKIAZ7QHSB4LYX3TQW5M end')).toBe('key AKIA…(20 chars) end');
    expect(preview('see https://example.com/ and words')).toBe('see https://example.com/ and words');
  });
});
