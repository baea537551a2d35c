/**
 * executeSend in-process, with fake transports (nothing leaves the process): the order of the
 * pipeline, the approval gate, checkpoints and crash recovery, rate limits, DNS pinning against a
 * rebinding lookup, redirect re-checks, retries, and the state / audit failure paths.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/log.ts';
import { DeliveryError } from '../../src/errors.ts';
import { parseMessage } from '../../src/message/parse.ts';
import { sendDigest } from '../../src/message/payload.ts';
import { mintToken } from '../../src/state/approvals.ts';
import type { OutboxRecord } from '../../src/state/store.ts';
import { deadPid, harness, OK, type Harness } from './helpers.ts';

let h: Harness;
afterEach(() => h?.cleanup());

const URL_ = 'http://127.0.0.1:8080/hook';
const codes = (output: { constraints_applied: { code: string }[] }) => output.constraints_applied.map((constraint) => constraint.code);

async function tokenFor(requestId: string, expires = new Date(Date.now() + 60_000)): Promise<string> {
  const pending = h.store.read('approvals').pending[requestId]!;
  return mintToken(await h.store.hmacKey(), pending.id, pending.digest, expires);
}

describe('approval gate', () => {
  it('needs a token, records a pending request, and the token sends exactly once', async () => {
    h = harness({ policy: { approval: { required: true } } });
    const first = await h.send({});
    expect(first.exitCode).toBe(3);
    expect(first.output.delivery.status).toBe('approval_required');
    expect(h.attempts).toHaveLength(0);
    const requestId = first.output.approval.request_id!;
    const pending = h.store.read('approvals').pending[requestId]!;
    expect(pending.digest).toBe(sendDigest('http', URL_, parseMessage('{"text":"hello"}', 'http')));

    const token = await tokenFor(requestId);
    const sent = await h.send({ approvalToken: token });
    expect(sent.exitCode).toBe(0);
    expect(sent.output.approval.status).toBe('consumed');
    expect(h.attempts).toHaveLength(1);
    expect(h.store.read('approvals').consumed[requestId]).toBeTruthy();

    const again = await h.send({ approvalToken: token });
    expect(codes(again.output)).toContain('ALREADY_DELIVERED');
    expect(h.attempts).toHaveLength(1);
  });

  it('a token is bound to protocol, destination and payload', async () => {
    h = harness({ policy: { approval: { required: true } } });
    const first = await h.send({});
    const token = await tokenFor(first.output.approval.request_id!);
    for (const inputs of [{ message: '{"text":"hello!"}' }, { destination: 'http://127.0.0.1:8080/other' }, { destination: 'http://127.0.0.1:8081/hook' }]) {
      const result = await h.send({ ...inputs, approvalToken: token });
      expect(result.exitCode).toBe(3);
      expect(result.output.approval.status).toBe('invalid');
      expect(codes(result.output)).toEqual(expect.arrayContaining(['APPROVAL_INVALID', 'APPROVAL_REQUIRED']));
    }
    expect(h.attempts).toHaveLength(0);
  });

  it('two sends racing with one token in one process: one delivery, the other is told the token is in use', async () => {
    h = harness({ policy: { approval: { required: true } }, transport: () => new Promise((resolve) => setTimeout(() => resolve(OK), 150)) });
    const first = await h.send({});
    const token = await tokenFor(first.output.approval.request_id!);
    const [a, b] = await Promise.all([h.send({ approvalToken: token }), h.send({ approvalToken: token })]);
    expect(h.attempts).toHaveLength(1);
    const loser = a.exitCode === 0 ? b : a;
    expect(loser.exitCode).toBe(3);
    expect(loser.output.constraints_applied.find((c) => c.code === 'APPROVAL_INVALID')!.reason).toContain('delivering it right now');
    expect(loser.output.checkpoint_ref).toBe((a.exitCode === 0 ? a : b).output.checkpoint_ref);
  });

  it('a fresh token used to resume a failed checkpoint is used up too (it cannot start a second delivery later)', async () => {
    let fail = true;
    h = harness({
      policy: { approval: { required: true } },
      transport: () => (fail ? Promise.reject(new DeliveryError('HTTP_STATUS', 'HTTP 400', { retryable: false, responseCode: 400 })) : Promise.resolve(OK)),
    });
    const first = await h.send({});
    const failed = await h.send({ approvalToken: await tokenFor(first.output.approval.request_id!) });
    expect(failed.exitCode).toBe(1);
    const checkpoint = failed.output.checkpoint_ref!;

    fail = false;
    const ask = await h.send({ checkpointRef: checkpoint });
    expect(ask.exitCode).toBe(3);
    const second = await tokenFor(ask.output.approval.request_id!);
    const resumed = await h.send({ checkpointRef: checkpoint, approvalToken: second });
    expect(resumed.exitCode).toBe(0);
    expect(resumed.output.checkpoint_ref).toBe(checkpoint);
    expect(h.attempts).toHaveLength(2);

    // The second token now owns the checkpoint: reusing it reports that delivery, and sends nothing.
    const reuse = await h.send({ approvalToken: second });
    expect(codes(reuse.output)).toContain('ALREADY_DELIVERED');
    expect(reuse.output.checkpoint_ref).toBe(checkpoint);
    expect(h.attempts).toHaveLength(2);
    expect(h.store.read('approvals').consumed[ask.output.approval.request_id!]).toBeTruthy();
  });

  it('approval.not_required_for exempts only the listed destinations', async () => {
    h = harness({ policy: { approval: { required: true, not_required_for: ['http://127.0.0.1:8080/metrics'] } } });
    expect((await h.send({ destination: 'http://127.0.0.1:8080/metrics/cpu' })).exitCode).toBe(0);
    expect((await h.send({ destination: 'http://127.0.0.1:8080/hook' })).exitCode).toBe(3);
  });
});

describe('checkpoint and crash recovery', () => {
  /** Put the outbox in the state a sender leaves when it dies mid-send (or is still sending). */
  async function sendingRecord(owner: number, leaseUntil: number): Promise<OutboxRecord> {
    const result = await h.send({});
    const id = result.output.checkpoint_ref!;
    await h.store.transaction(['outbox'], (state) => {
      Object.assign(state.outbox.records[id]!, { status: 'sending', owner_pid: owner, lease_until: leaseUntil, delivered_at: null });
    });
    return h.store.read('outbox').records[id]!;
  }

  it('a checkpoint whose sender died is resumed by the same send, with the same idempotency key and no second rate event', async () => {
    h = harness();
    const record = await sendingRecord(deadPid(), Date.now() + 600_000);
    const events = h.store.read('rate').events.length;
    const resumed = await h.send({});
    expect(resumed.output.checkpoint_ref).toBe(record.id);
    expect(h.attempts.at(-1)!.idempotencyKey).toBe(record.idempotency_key);
    expect(h.store.read('rate').events).toHaveLength(events);
    expect(h.store.read('outbox').records[record.id]).toMatchObject({ status: 'delivered', owner_pid: null, lease_until: null });
  });

  it('a checkpoint a live process is delivering is not resumed: an identical send is its own send, --checkpoint-ref is refused', async () => {
    h = harness();
    const record = await sendingRecord(process.pid, Date.now() + 600_000);
    const identical = await h.send({});
    expect(identical.exitCode).toBe(0);
    expect(identical.output.checkpoint_ref).not.toBe(record.id);
    expect(h.attempts.at(-1)!.idempotencyKey).not.toBe(record.idempotency_key);

    const explicit = await h.send({ checkpointRef: record.id });
    expect(explicit.exitCode).toBe(2);
    expect(codes(explicit.output)).toContain('CHECKPOINT_IN_PROGRESS');
    expect(h.attempts).toHaveLength(2);
  });

  it('a live owner past its lease is presumed hung and the checkpoint is resumed', async () => {
    h = harness();
    const record = await sendingRecord(process.pid, Date.now() - 1);
    const resumed = await h.send({ checkpointRef: record.id });
    expect(resumed.exitCode).toBe(0);
    expect(h.attempts.at(-1)!.idempotencyKey).toBe(record.idempotency_key);
  });

  it('an unknown --checkpoint-ref blocks before anything is counted or consumed', async () => {
    h = harness({ policy: { approval: { required: true } } });
    const result = await h.send({ checkpointRef: 'cp_nothere123' });
    expect(result.exitCode).toBe(2);
    expect(codes(result.output)).toContain('CHECKPOINT_NOT_FOUND');
    expect(h.store.read('rate').events).toHaveLength(0);
    expect(h.attempts).toHaveLength(0);
  });

  it('the outbox record is written before the transport is called', async () => {
    let seen: OutboxRecord | undefined;
    h = harness({
      transport: (attempt) => {
        seen = Object.values(h.store.read('outbox').records).find((record) => record.idempotency_key === attempt.idempotencyKey);
        return Promise.resolve(OK);
      },
    });
    await h.send({});
    expect(seen).toMatchObject({ status: 'sending', owner_pid: process.pid });
  });
});

describe('rate limits', () => {
  it('a per-minute window opens again after a minute', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    h = harness({ policy: { rate_limit: { max_messages_per_minute: 2, max_messages_per_hour: 100, max_messages_per_destination_per_hour: 100, cooldown_after_limit: 0 } }, now: () => new Date(now) });
    expect((await h.send({ message: '1' })).exitCode).toBe(0);
    expect((await h.send({ message: '2' })).exitCode).toBe(0);
    const third = await h.send({ message: '3' });
    expect(third.exitCode).toBe(2);
    expect(third.output.constraints_applied.find((c) => c.code === 'RATE_LIMITED')!.detail).toEqual({ retry_after_seconds: 60 });
    now += 60_001;
    expect((await h.send({ message: '4' })).exitCode).toBe(0);
    expect(h.attempts).toHaveLength(3);
  });

  it('the per-call constraints.rate_limit applies per destination', async () => {
    h = harness();
    const constraints = { rate_limit: { count: 1, windowMs: 3_600_000, text: '1/hour' } };
    expect((await h.send({ constraints })).exitCode).toBe(0);
    const second = await h.send({ constraints, message: 'other' });
    expect(second.exitCode).toBe(2);
    expect(codes(second.output)).toContain('RATE_LIMITED');
    expect((await h.send({ constraints, destination: 'http://127.0.0.1:9090/x' })).exitCode).toBe(0);
  });

  it('a dry run counts toward nothing and consumes no approval', async () => {
    h = harness({ policy: { approval: { required: true }, rate_limit: { max_messages_per_minute: 1 } } });
    const first = await h.send({});
    const token = await tokenFor(first.output.approval.request_id!);
    for (let i = 0; i < 3; i += 1) {
      const dry = await h.send({ approvalToken: token, dryRun: true });
      expect(dry.exitCode).toBe(0);
      expect(dry.output.approval.status).toBe('valid');
    }
    expect(h.store.read('rate').events).toHaveLength(0);
    expect(h.store.read('approvals').consumed).toEqual({});
    expect((await h.send({ approvalToken: token })).exitCode).toBe(0);
  });
});

describe('DNS pinning (fake transport: nothing connects)', () => {
  it('public on the first lookup, internal on the second: the transport gets only the vetted public address', async () => {
    h = harness({ answers: { 'hooks.example.com': [['93.184.216.34'], ['127.0.0.1']] } });
    const result = await h.send({ destination: 'http://hooks.example.com/hook' });
    expect(result.exitCode).toBe(0);
    expect(h.lookups).toEqual(['hooks.example.com']);
    expect(h.attempts.map((attempt) => attempt.endpoint.addresses)).toEqual([['93.184.216.34']]);
  });

  it('retries reuse the vetted address and never resolve again', async () => {
    let calls = 0;
    h = harness({
      answers: { 'hooks.example.com': [['93.184.216.34'], ['10.0.0.1']] },
      transport: (attempt) => {
        calls += 1;
        // The rebinding answer must never reach a transport.
        if (attempt.endpoint.addresses.includes('10.0.0.1')) throw new Error('transport called for 10.0.0.1');
        if (calls < 3) throw new DeliveryError('HTTP_CONNECT_FAILED', 'refused', { retryable: true });
        return Promise.resolve(OK);
      },
    });
    const result = await h.send({ destination: 'http://hooks.example.com/hook' });
    expect(result.output.delivery).toMatchObject({ status: 'sent', retry_count: 2 });
    expect(h.lookups).toEqual(['hooks.example.com']);
    expect(new Set(h.attempts.map((attempt) => attempt.endpoint.addresses.join()))).toEqual(new Set(['93.184.216.34']));
  });

  it('one internal address among the answers blocks before the transport', async () => {
    h = harness({ answers: { 'hooks.example.com': [['93.184.216.34', '10.0.0.1']] } });
    const result = await h.send({ destination: 'http://hooks.example.com/hook' });
    expect(result.exitCode).toBe(2);
    expect(codes(result.output)).toContain('NETWORK_INTERNAL');
    expect(h.attempts).toHaveLength(0);
  });

  it('a redirect hop is re-checked: internal literal, internal by DNS, off the allowlist, and an allowed hop', async () => {
    h = harness({
      policy: { destinations: { allow: ['127.0.0.1', 'ok.example.com'] } },
      answers: { 'internal.example.com': [['10.9.9.9']], 'ok.example.com': [['93.184.216.34']], 'other.example.net': [['93.184.216.35']] },
    });
    await h.send({});
    const recheck = h.attempts[0]!.recheck!;
    expect(await recheck('http://169.254.169.254/latest/meta-data/')).toMatchObject({ ok: false, code: 'DESTINATION_NOT_ALLOWED' });
    expect(await recheck('http://internal.example.com/x')).toMatchObject({ ok: false, code: 'DESTINATION_NOT_ALLOWED' });
    expect(await recheck('http://other.example.net/x')).toMatchObject({ ok: false, code: 'DESTINATION_NOT_ALLOWED' });
    expect(await recheck('http://[::ffff:10.0.0.1]/x')).toMatchObject({ ok: false });
    const allowed = await recheck('https://ok.example.com/next');
    expect(allowed).toMatchObject({ ok: true, endpoint: { host: 'ok.example.com', port: 443, addresses: ['93.184.216.34'] } });

    h.cleanup();
    h = harness({ answers: { 'internal.example.com': [['10.9.9.9']] } });
    await h.send({});
    expect(await h.attempts[0]!.recheck!('http://internal.example.com/x')).toMatchObject({ ok: false, code: 'NETWORK_INTERNAL' });
    expect(await h.attempts[0]!.recheck!('http://169.254.169.254/latest/meta-data/')).toMatchObject({ ok: false, code: 'NETWORK_INTERNAL' });
    expect(await h.attempts[0]!.recheck!('http://0xa9fea9fe/')).toMatchObject({ ok: false, code: 'NETWORK_INTERNAL' });
  });

  it('a redirect hop is held to network.allowed_ports like the first request', async () => {
    h = harness({ policy: { network: { allow_private: [], allowed_ports: [443] } }, answers: { 'hooks.example.com': [['93.184.216.34']], 'other.example.net': [['93.184.216.35']] } });
    const first = await h.send({ destination: 'https://hooks.example.com/hook' });
    expect(first.exitCode).toBe(0);
    const recheck = h.attempts[0]!.recheck!;
    expect(await recheck('http://other.example.net:25/x')).toMatchObject({ ok: false, code: 'PORT_NOT_ALLOWED' });
    expect(await recheck('http://other.example.net/x')).toMatchObject({ ok: false, code: 'PORT_NOT_ALLOWED' });
    expect(await recheck('https://other.example.net/x')).toMatchObject({ ok: true, endpoint: { port: 443 } });
  });
});

describe('retries', () => {
  it('bounded attempts with backoff; Retry-After raises the wait; the same idempotency key every time', async () => {
    let calls = 0;
    h = harness({
      transport: () => {
        calls += 1;
        if (calls === 1) throw new DeliveryError('HTTP_STATUS', '503', { retryable: true, responseCode: 503 });
        if (calls === 2) throw new DeliveryError('HTTP_STATUS', '429', { retryable: true, responseCode: 429, retryAfterMs: 90 });
        return Promise.resolve(OK);
      },
    });
    const result = await h.send({});
    expect(result.output.delivery).toMatchObject({ status: 'sent', retry_count: 2 });
    expect(h.waits).toHaveLength(2);
    expect(h.waits[0]).toBeGreaterThanOrEqual(5);
    expect(h.waits[0]).toBeLessThanOrEqual(10);
    expect(h.waits[1]).toBeGreaterThanOrEqual(90);
    expect(new Set(h.attempts.map((attempt) => attempt.idempotencyKey)).size).toBe(1);
  });

  it('retries exhausted: failed, the checkpoint says failed, and next_actions names it', async () => {
    h = harness({ transport: () => Promise.reject(new DeliveryError('HTTP_CONNECT_FAILED', 'refused', { retryable: true })) });
    const result = await h.send({ retryPolicy: { max_attempts: 4 } });
    expect(result.exitCode).toBe(1);
    expect(result.output.delivery).toMatchObject({ status: 'failed', retry_count: 3 });
    expect(h.attempts).toHaveLength(4);
    expect(result.output.next_actions[0]).toContain(`--checkpoint-ref ${result.output.checkpoint_ref}`);
    expect(h.store.read('outbox').records[result.output.checkpoint_ref!]).toMatchObject({ status: 'failed', attempts: 4, owner_pid: null });
  });

  it('retrying a failed checkpoint counts toward the rate limits like a new send (a "failing" receiver cannot be hammered)', async () => {
    h = harness({
      policy: { rate_limit: { max_messages_per_minute: 2, max_messages_per_hour: 30, max_messages_per_destination_per_hour: 10, cooldown_after_limit: 0 } },
      transport: () => Promise.reject(new DeliveryError('HTTP_STATUS', 'HTTP 400', { retryable: false, responseCode: 400 })),
    });
    const first = await h.send({});
    expect(first.output.delivery.status).toBe('failed');
    const checkpoint = first.output.checkpoint_ref!;
    const retry = await h.send({ checkpointRef: checkpoint });
    expect(retry.output.delivery.status).toBe('failed');
    expect(retry.output.constraints_applied.find((c) => c.code === 'RATE_LIMIT_OK')?.reason).toMatch(/retrying a failed checkpoint counts as a send/);
    const third = await h.send({ checkpointRef: checkpoint });
    expect(third.exitCode).toBe(2);
    expect(codes(third.output)).toContain('RATE_LIMITED');
    expect(h.attempts).toHaveLength(2);
  });

  it('a non-retryable failure is tried once', async () => {
    h = harness({ transport: () => Promise.reject(new DeliveryError('HTTP_STATUS', 'HTTP 400', { retryable: false, responseCode: 400 })) });
    const result = await h.send({});
    expect(result.output.delivery).toMatchObject({ status: 'failed', retry_count: 0, response_code: 400 });
    expect(h.attempts).toHaveLength(1);
  });
});

describe('no audit, no send; a broken state blocks and is left alone', () => {
  it('an unwritable audit path blocks before anything is counted, consumed or sent', async () => {
    h = harness();
    const file = join(h.dir, 'file');
    writeFileSync(file, 'x');
    const result = await h.send({}, { auditPath: join(file, 'audit.jsonl') });
    expect(result.exitCode).toBe(2);
    expect(codes(result.output)).toContain('AUDIT_UNAVAILABLE');
    expect(h.attempts).toHaveLength(0);
    expect(h.store.read('rate').events).toHaveLength(0);
    expect(h.store.read('outbox').records).toEqual({});
  });

  it('a corrupt outbox blocks with STATE_CORRUPT and is not rewritten', async () => {
    h = harness();
    await h.send({});
    const path = h.store.path('outbox');
    writeFileSync(path, '{"version":1,"records":{"x":{"id":1}}}');
    const result = await h.send({ message: 'next' });
    expect(result.exitCode).toBe(2);
    expect(codes(result.output)).toContain('STATE_CORRUPT');
    expect(readFileSync(path, 'utf8')).toBe('{"version":1,"records":{"x":{"id":1}}}');
    expect(h.attempts).toHaveLength(1);
  });

  it('every decision and delivery is audited and the chain verifies', async () => {
    h = harness();
    await h.send({});
    await h.send({ checkpointRef: 'cp_unknown1' });
    const lines = readFileSync(h.auditPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; result: string });
    expect(lines.map((line) => `${line.action}:${line.result}`)).toEqual(['decision:checking', 'delivery:sent', 'decision:checking', 'decision:blocked']);
    expect(verifyAudit(h.auditPath)).toEqual({ ok: true, records: 4 });
  });
});
