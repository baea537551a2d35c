/**
 * HTTP end to end: the real bundled CLI (`node skills/send/scripts/send.mjs`, a child process)
 * against real HTTP(S) servers on 127.0.0.1 (test/e2e/support/http-server.ts). The test policy
 * opens 127.0.0.1 explicitly (network.allow_private); names are pinned with --resolve.
 *
 * Covers issue 4: the approval gate (pending request, approve.mjs on a real terminal, reused token,
 * token for another payload or destination, two sends racing with one token), checkpoints
 * (unknown --checkpoint-ref, kill -9 mid-send and re-run), rate limits (50 concurrent senders
 * against a limit of 5, per-destination, per-hour, cooldown, constraints.rate_limit), the transport
 * (method/headers/body, redirects, timeouts, TLS with the real host name, truncated confirmation),
 * retries (5xx, 429 + Retry-After, no retry for 4xx), audit (fields, verify after edit / removal /
 * reorder), the output contract (Example 1: webhook answered 200; Example 2: unreachable, retries
 * exhausted) and bad input. Blocks of non-loopback targets run in a netns: see http-netns.test.ts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { outputSchema, type SendOutput } from '../../src/contract.ts';
import { mintToken } from '../../src/state/approvals.ts';
import { StateStore } from '../../src/state/store.ts';
import { approveOnTerminal as approveViaScript, cliEnv, runCli, writePolicyFile, type TerminalApproval } from './support/cli.ts';
import { createHttpsPki, startHttpServer, type HttpServerOptions, type HttpsPki, type TestHttpServer } from './support/http-server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPTS = join(ROOT, 'skills', 'send', 'scripts');
const SEND = join(SCRIPTS, 'send.mjs');
const APPROVE = join(SCRIPTS, 'approve.mjs');
const AUDIT = join(SCRIPTS, 'audit.mjs');

let work: string;
let servers: TestHttpServer[] = [];

beforeEach(() => {
  // A fresh state directory (approvals, rate windows, outbox, audit log) and HOME for every test.
  work = mkdtempSync(join(tmpdir(), 'sendgate-e2e-http-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  rmSync(work, { recursive: true, force: true });
});

async function server(options: HttpServerOptions = {}): Promise<TestHttpServer> {
  const started = await startHttpServer(options);
  servers.push(started);
  return started;
}

interface PolicyOptions {
  /** Destination patterns needing no approval (approval stays on for everything else). */
  noApprovalFor?: string[];
  allow?: string[];
  rate?: Record<string, number>;
  delivery?: Record<string, number>;
  http?: Record<string, number>;
  audit?: Record<string, unknown>;
  mode?: 'send' | 'draft';
}

function writePolicy(options: PolicyOptions = {}, name = 'policy.yaml'): string {
  const policy = {
    version: 1,
    ...(options.mode ? { mode: options.mode } : {}),
    approval: { required: true, ttl_seconds: 600, not_required_for: options.noApprovalFor ?? [] },
    network: { allow_private: ['127.0.0.1/32'] },
    destinations: { allow: options.allow ?? [] },
    rate_limit: { max_messages_per_minute: 100, max_messages_per_hour: 1000, max_messages_per_destination_per_hour: 1000, cooldown_after_limit: 0, ...options.rate },
    delivery: { timeout_ms: 5_000, max_attempts: 3, base_delay_ms: 20, max_delay_ms: 200, ...options.delivery },
    ...(options.http ? { http: options.http } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  };
  return writePolicyFile(work, policy, name);
}

const childEnv = (extra: NodeJS.ProcessEnv = {}) => cliEnv(work, extra);

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The parsed contract (YAML or JSON), or null when nothing was printed on stdout. */
  output: SendOutput | null;
  ms: number;
}

/** Run a bundled CLI asynchronously: the servers live in this process and must keep answering. */
async function runNode(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; json?: boolean } = {}): Promise<RunResult> {
  const started = Date.now();
  const { exitCode, stdout, stderr } = await runCli(process.execPath, [script, ...args], { cwd: work, env: childEnv(options.env), timeoutMs: 60_000, maxBuffer: 16 << 20 });
  let output: SendOutput | null = null;
  if (stdout.trim() && script === SEND) output = (options.json ? JSON.parse(stdout) : parseYaml(stdout)) as SendOutput;
  return { exitCode, stdout, stderr, output, ms: Date.now() - started };
}

interface SendOptions {
  policy: string;
  message?: string;
  token?: string;
  checkpoint?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  yaml?: boolean;
}

function sendArgs(destination: string, options: SendOptions): string[] {
  return [
    '--destination', destination,
    '--protocol', 'http',
    '--message', options.message ?? JSON.stringify({ text: 'Build #142 passed' }),
    '--policy', options.policy,
    ...(options.token ? ['--approval-token', options.token] : []),
    ...(options.checkpoint ? ['--checkpoint-ref', options.checkpoint] : []),
    ...(options.yaml ? [] : ['--format', 'json']),
    ...(options.args ?? []),
  ];
}

function send(destination: string, options: SendOptions): Promise<RunResult> {
  return runNode(SEND, sendArgs(destination, options), { env: options.env, json: !options.yaml });
}

function out(result: RunResult): SendOutput {
  if (!result.output) throw new Error(`send printed no contract (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  return result.output;
}

function codes(result: RunResult): string[] {
  return out(result).constraints_applied.map((constraint) => constraint.code);
}

const store = () => new StateStore(join(work, 'state'));
const auditFile = () => join(work, 'state', 'audit', 'sendgate.jsonl');
const auditRecords = () => readFileSync(auditFile(), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

/** The human's side, in-process (mintToken + the state's HMAC key), where the TTY is not what is tested. */
async function approveInProcess(requestId: string, expiresAt?: Date): Promise<string> {
  const state = store();
  const pending = state.read('approvals').pending[requestId];
  if (!pending) throw new Error(`no pending request ${requestId}`);
  return mintToken(await state.hmacKey(), pending.id, pending.digest, expiresAt ?? new Date(Date.parse(pending.expires_at)));
}

/** The human's side for real: approve.mjs on a terminal (script(1) gives it a pty), answering `answer`. */
function approveOnTerminal(requestId: string, policy: string, answer = 'yes'): Promise<TerminalApproval> {
  return approveViaScript([process.execPath, APPROVE, 'approve', requestId, '--policy', policy], { cwd: work, env: childEnv(), answer });
}

const MESSAGE = JSON.stringify({ text: 'Build #142 passed', build: 142 });

describe('Example 1: a webhook answered 200', () => {
  it('delivers, prints the full contract as YAML by default, and the receiver got exactly the message', async () => {
    const http = await server();
    http.script('/hooks/build', { status: 200, body: '{"ok":true,"id":"evt_123"}' });
    const policy = writePolicy({ noApprovalFor: [http.url('/hooks/')] });
    const result = await send(http.url('/hooks/build'), { policy, message: MESSAGE, yaml: true });

    expect(result.exitCode).toBe(0);
    expect(result.stdout.trimStart().startsWith('sent: true')).toBe(true); // YAML, not JSON
    const output = outputSchema.parse(out(result));
    expect(output.sent).toBe(true);
    expect(output.delivery).toMatchObject({
      status: 'sent', protocol: 'http', destination: http.url('/hooks/build'), response_code: 200,
      confirmation: 'HTTP 200: {"ok":true,"id":"evt_123"}', retry_count: 0, error: null,
    });
    expect(Date.parse(output.delivery.delivered_at!)).not.toBeNaN();
    expect(codes(result)).toEqual(expect.arrayContaining(['PAYLOAD_SIZE_OK', 'NETWORK_PRIVATE_ALLOWED', 'APPROVAL_NOT_REQUIRED', 'RATE_LIMIT_OK', 'CHECKPOINT_OK']));
    expect(output.constraints_applied.every((constraint) => constraint.result === 'pass')).toBe(true);
    expect(output.approval).toMatchObject({ required: false, status: 'not_required' });
    expect(output.confidence).toBe('high');
    expect(output.checkpoint_ref).toMatch(/^cp_/);
    expect(output.audit_id).toMatch(/^au_/);
    expect(output.evidence_anchors).toEqual(expect.arrayContaining([`outbox:${output.checkpoint_ref}`, `idempotency-key:sendgate-${output.checkpoint_ref}`, 'http:200', `audit:${output.audit_id}`]));
    expect(output.next_actions).toEqual(['Delivered; nothing more to do.']);

    expect(http.requests).toHaveLength(1);
    const received = http.requests[0]!;
    expect(received.method).toBe('POST');
    expect(received.path).toBe('/hooks/build');
    expect(received.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received.body)).toEqual(JSON.parse(MESSAGE));
    expect(received.idempotencyKey).toBe(`sendgate-${output.checkpoint_ref}`);

    const record = store().read('outbox').records[output.checkpoint_ref!]!;
    expect(record).toMatchObject({ status: 'delivered', response_code: 200, attempts: 1, idempotency_key: received.idempotencyKey });
  });

  it('--format json prints the same contract as JSON', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/hook'), { policy });
    expect(result.exitCode).toBe(0);
    const output = outputSchema.parse(JSON.parse(result.stdout));
    expect(output.delivery.status).toBe('sent');
    expect(Object.keys(output)).toEqual(['sent', 'delivery', 'constraints_applied', 'approval', 'confidence', 'evidence_anchors', 'assumptions', 'next_actions', 'checkpoint_ref', 'audit_id']);
  });
});

describe('Example 2: the server is unreachable, retries exhausted', () => {
  it('fails with exit 1, retry_count, the error and next_actions; a later --checkpoint-ref run delivers with the same Idempotency-Key', async () => {
    // A port that was just listening and is now closed: connection refused, a retryable failure.
    const gone = await startHttpServer();
    const port = gone.port;
    await gone.stop();
    const url = `http://127.0.0.1:${port}/hooks/build`;
    const policy = writePolicy({ noApprovalFor: [url] });

    const failed = await send(url, { policy });
    expect(failed.exitCode).toBe(1);
    const output = outputSchema.parse(out(failed));
    expect(output.sent).toBe(false);
    expect(output.delivery).toMatchObject({ status: 'failed', protocol: 'http', response_code: null, confirmation: null, retry_count: 2, delivered_at: null });
    expect(output.delivery.error).toMatch(/^HTTP_CONNECT_FAILED: cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(output.checkpoint_ref).toMatch(/^cp_/);
    expect(output.next_actions).toHaveLength(1);
    expect(output.next_actions[0]).toContain('after 3 attempt(s)');
    expect(output.next_actions[0]).toContain(`--checkpoint-ref ${output.checkpoint_ref}`);
    expect(store().read('outbox').records[output.checkpoint_ref!]).toMatchObject({ status: 'failed', attempts: 3 });

    // The receiver comes back on the same port: resuming the checkpoint delivers once, same key.
    const back = await server({ port });
    const resumed = await send(url, { policy, checkpoint: output.checkpoint_ref! });
    expect(resumed.exitCode).toBe(0);
    expect(out(resumed).delivery.status).toBe('sent');
    expect(out(resumed).checkpoint_ref).toBe(output.checkpoint_ref);
    expect(back.idempotencyKeys()).toEqual([`sendgate-${output.checkpoint_ref}`]);
    expect(codes(resumed)).toContain('CHECKPOINT_OK');

    // And once delivered, the checkpoint is never delivered again.
    const third = await send(url, { policy, checkpoint: output.checkpoint_ref! });
    expect(third.exitCode).toBe(0);
    expect(codes(third)).toContain('ALREADY_DELIVERED');
    expect(back.count()).toBe(1);
  });
});

describe('approval gate', () => {
  it('without a token: exit 3, nothing sent, a pending request shows what (masked), where and why; approve.mjs lists and shows it', async () => {
    const http = await server();
    const policy = writePolicy();
    const message = JSON.stringify({ text: 'Deploy finished', order: 'ORD7Q2XK9M4PZ8RT5W3N6Y1' });
    const result = await send(http.url('/hooks/deploy'), { policy, message });

    expect(result.exitCode).toBe(3);
    const output = outputSchema.parse(out(result));
    expect(output.sent).toBe(false);
    expect(output.delivery.status).toBe('approval_required');
    expect(output.approval).toMatchObject({ required: true, status: 'missing' });
    expect(output.approval.request_id).toMatch(/^ap_/);
    expect(output.approval.how_to_approve).toContain(`approve.mjs" approve ${output.approval.request_id}`);
    expect(codes(result)).toContain('APPROVAL_REQUIRED');
    expect(output.next_actions.join('\n')).toContain('Do not try to approve it yourself');
    expect(http.count()).toBe(0);

    const pending = store().read('approvals').pending[output.approval.request_id!]!;
    expect(pending).toMatchObject({ protocol: 'http', destination: http.url('/hooks/deploy'), kind: 'approval' });
    expect(pending.summary).toContain('Deploy finished');
    expect(pending.summary).not.toContain('ORD7Q2XK9M4PZ8RT5W3N6Y1'); // token-like runs are masked
    expect(pending.reason).toBeTruthy();

    const list = await runNode(APPROVE, ['list', '--policy', policy, '--format', 'json']);
    expect(list.exitCode).toBe(0);
    const items = JSON.parse(list.stdout) as Array<Record<string, string>>;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: output.approval.request_id, protocol: 'http', destination: http.url('/hooks/deploy'), message_preview: pending.summary });
    const show = await runNode(APPROVE, ['show', output.approval.request_id!, '--policy', policy]);
    expect(show.exitCode).toBe(0);
    expect(parseYaml(show.stdout)).toMatchObject({ id: output.approval.request_id, reason: pending.reason });

    // Asking again does not pile up requests.
    const again = await send(http.url('/hooks/deploy'), { policy, message });
    expect(out(again).approval.request_id).toBe(output.approval.request_id);
  });

  it('approve.mjs on a terminal mints a token that sends exactly that message once; a reused token delivers nothing more', async () => {
    const http = await server();
    const policy = writePolicy();
    const first = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE });
    const requestId = out(first).approval.request_id!;

    // No terminal: refused (an agent driving a pipe cannot approve).
    const piped = await runNode(APPROVE, ['approve', requestId, '--policy', policy]);
    expect(piped.exitCode).toBe(64);
    expect(piped.stderr).toContain('NOT_A_TERMINAL');
    // On a terminal, "no": not approved, no token.
    const declined = await approveOnTerminal(requestId, policy, 'no');
    expect(declined.exitCode).toBe(3);
    expect(declined.token).toBeNull();

    const approved = await approveOnTerminal(requestId, policy);
    expect(approved.exitCode).toBe(0);
    expect(approved.token).toMatch(/^sg1\./);
    expect(approved.output).toContain('Send this http message to');
    const token = approved.token!;

    const sent = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE, token });
    expect(sent.exitCode).toBe(0);
    expect(out(sent).delivery.status).toBe('sent');
    expect(out(sent).approval).toMatchObject({ required: true, status: 'consumed', request_id: requestId });
    expect(codes(sent)).toContain('APPROVAL_VALID');
    expect(http.count()).toBe(1);
    expect(store().read('approvals').consumed[requestId]).toBeTruthy();
    expect(store().read('approvals').pending[requestId]).toBeUndefined();

    // Reused: the same command again reports the earlier delivery and sends nothing.
    const reused = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE, token });
    expect(reused.exitCode).toBe(0);
    expect(codes(reused)).toContain('ALREADY_DELIVERED');
    expect(out(reused).checkpoint_ref).toBe(out(sent).checkpoint_ref);
    expect(http.count()).toBe(1);

    // The approval is on the audit record of the delivery.
    const delivery = auditRecords().find((record) => record.action === 'delivery')!;
    expect(delivery.approval_id).toBe(requestId);
    expect(auditRecords().some((record) => record.action === 'approval' && record.result === 'approved' && record.approval_id === requestId)).toBe(true);
  });

  it('a token for a different payload or destination is rejected (APPROVAL_INVALID, exit 3), and nothing is sent', async () => {
    const http = await server();
    const policy = writePolicy();
    const first = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE });
    const token = await approveInProcess(out(first).approval.request_id!);

    const otherPayload = await send(http.url('/hooks/deploy'), { policy, message: JSON.stringify({ text: 'Build #143 passed', build: 143 }), token });
    expect(otherPayload.exitCode).toBe(3);
    expect(out(otherPayload).approval.status).toBe('invalid');
    const invalid = out(otherPayload).constraints_applied.find((constraint) => constraint.code === 'APPROVAL_INVALID')!;
    expect(invalid.reason).toContain('different message, destination or protocol');

    const otherDestination = await send(http.url('/hooks/other'), { policy, message: MESSAGE, token });
    expect(otherDestination.exitCode).toBe(3);
    expect(codes(otherDestination)).toContain('APPROVAL_INVALID');

    // A forged (edited) token for the right message is rejected too.
    const forged = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE, token: `${token.slice(0, -4)}AAAA` });
    expect(forged.exitCode).toBe(3);
    expect(codes(forged)).toContain('APPROVAL_INVALID');
    expect(http.count()).toBe(0);

    // The genuine token still works for its own message: the rejected attempts did not use it up.
    const sent = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE, token });
    expect(sent.exitCode).toBe(0);
    expect(http.count()).toBe(1);
  });

  it('an expired token is rejected', async () => {
    const http = await server();
    const policy = writePolicy();
    const first = await send(http.url('/hook'), { policy });
    const token = await approveInProcess(out(first).approval.request_id!, new Date(Date.now() - 1_000));
    const result = await send(http.url('/hook'), { policy, token });
    expect(result.exitCode).toBe(3);
    expect(out(result).constraints_applied.find((constraint) => constraint.code === 'APPROVAL_INVALID')!.reason).toContain('expired');
    expect(http.count()).toBe(0);
  });

  it('two sends racing with one token: exactly one delivery', async () => {
    const http = await server();
    http.script('/hook', { status: 200, delayMs: 600 });
    const policy = writePolicy();
    const first = await send(http.url('/hook'), { policy });
    const token = await approveInProcess(out(first).approval.request_id!);

    const results = await Promise.all([1, 2, 3, 4].map(() => send(http.url('/hook'), { policy, token })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(http.count()).toBe(1);
    const delivered = results.filter((result) => result.exitCode === 0 && !codes(result).includes('ALREADY_DELIVERED'));
    expect(delivered).toHaveLength(1);
    for (const result of results) {
      if (result === delivered[0]) continue;
      // Either it saw the finished delivery, or it was refused while the other was in flight.
      expect(codes(result).includes('ALREADY_DELIVERED') || codes(result).includes('APPROVAL_INVALID')).toBe(true);
    }
  });

  it('policy can turn approval off for a destination pattern; it stays on for everything else', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/metrics')] });
    const trusted = await send(http.url('/metrics'), { policy });
    expect(trusted.exitCode).toBe(0);
    expect(out(trusted).approval.status).toBe('not_required');
    const other = await send(http.url('/hooks/x'), { policy });
    expect(other.exitCode).toBe(3);
    expect(http.count()).toBe(1);
  });
});

describe('checkpoint', () => {
  it('a --checkpoint-ref that does not exist blocks (exit 2), nothing sent', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/hook'), { policy, checkpoint: 'cp_doesnotexist1' });
    expect(result.exitCode).toBe(2);
    expect(out(result).delivery.status).toBe('blocked');
    expect(codes(result)).toContain('CHECKPOINT_NOT_FOUND');
    expect(out(result).delivery.error).toContain('CHECKPOINT_NOT_FOUND');
    expect(http.count()).toBe(0);
  });

  it('a checkpoint of another message blocks', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const first = await send(http.url('/hook'), { policy });
    const other = await send(http.url('/hook'), { policy, message: '{"text":"another"}', checkpoint: out(first).checkpoint_ref! });
    expect(other.exitCode).toBe(2);
    expect(codes(other)).toContain('CHECKPOINT_NOT_FOUND');
    expect(http.count()).toBe(1);
  });

  /** Start a send, wait until the receiver has the request (and hangs), then kill -9 the sender. */
  async function killMidSend(http: TestHttpServer, args: string[]): Promise<void> {
    const child = spawn(process.execPath, [SEND, ...args], { cwd: work, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    await http.waitForRequests(1);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
  }

  it('kill -9 during a send, then the same command again: same Idempotency-Key, delivered once, then ALREADY_DELIVERED without a request', async () => {
    const http = await server();
    http.script('/hooks/deploy', [{ hang: 'response' }, { status: 200, body: 'accepted' }]);
    const policy = writePolicy();
    const first = await send(http.url('/hooks/deploy'), { policy, message: MESSAGE });
    const token = await approveInProcess(out(first).approval.request_id!);
    const args = sendArgs(http.url('/hooks/deploy'), { policy, message: MESSAGE, token });

    await killMidSend(http, args);
    const [record] = Object.values(store().read('outbox').records);
    expect(record).toMatchObject({ status: 'sending' });

    const rerun = await runNode(SEND, args, { json: true });
    expect(rerun.exitCode).toBe(0);
    expect(out(rerun).delivery).toMatchObject({ status: 'sent', response_code: 200, confirmation: 'HTTP 200: accepted' });
    expect(out(rerun).checkpoint_ref).toBe(record!.id);
    expect(codes(rerun)).toContain('CHECKPOINT_OK');
    expect(out(rerun).constraints_applied.find((constraint) => constraint.code === 'CHECKPOINT_OK')!.reason).toContain('resuming');
    expect(http.count()).toBe(2);
    expect(new Set(http.idempotencyKeys())).toEqual(new Set([record!.idempotency_key]));
    expect(store().read('outbox').records[record!.id]).toMatchObject({ status: 'delivered', response_code: 200 });

    const third = await runNode(SEND, args, { json: true });
    expect(third.exitCode).toBe(0);
    expect(codes(third)).toContain('ALREADY_DELIVERED');
    expect(http.count()).toBe(2);
  });

  it('kill -9 with approval off: the re-run resumes the same checkpoint (counted once), and --checkpoint-ref then reports ALREADY_DELIVERED', async () => {
    const http = await server();
    http.script('/metrics', [{ hang: 'response' }, { status: 200 }]);
    const policy = writePolicy({ noApprovalFor: [http.url('/metrics')], rate: { max_messages_per_minute: 1 } });
    const args = sendArgs(http.url('/metrics'), { policy });
    await killMidSend(http, args);
    const rerun = await runNode(SEND, args, { json: true });
    expect(rerun.exitCode).toBe(0); // not RATE_LIMITED: the resumed checkpoint is not counted twice
    const checkpoint = out(rerun).checkpoint_ref!;
    expect(http.idempotencyKeys()).toEqual([`sendgate-${checkpoint}`, `sendgate-${checkpoint}`]);
    const third = await send(http.url('/metrics'), { policy, checkpoint });
    expect(codes(third)).toContain('ALREADY_DELIVERED');
    expect(http.count()).toBe(2);
  });
});

describe('rate limits', () => {
  it('50 concurrent senders against a limit of 5 send exactly 5', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/metrics')], rate: { max_messages_per_minute: 5, cooldown_after_limit: 60 } });
    const results = await Promise.all(Array.from({ length: 50 }, () => send(http.url('/metrics'), { policy })));
    const sent = results.filter((result) => result.exitCode === 0);
    const blocked = results.filter((result) => result.exitCode === 2);
    expect(sent).toHaveLength(5);
    expect(blocked).toHaveLength(45);
    for (const result of blocked) expect(codes(result).some((code) => code === 'RATE_LIMITED' || code === 'COOLDOWN_ACTIVE')).toBe(true);
    expect(http.count()).toBe(5);
    expect(new Set(http.idempotencyKeys()).size).toBe(5);
    const events = store().read('rate').events;
    expect(events).toHaveLength(5);
    // The audit log took every writer's records without interleaving or forking the chain.
    const verify = await runNode(AUDIT, ['verify', '--policy', policy]);
    expect(verify.exitCode).toBe(0);
    expect(auditRecords().filter((record) => record.action === 'delivery')).toHaveLength(5);
  }, 120_000);

  it('per destination per hour, then a cooldown that stops every destination', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')], rate: { max_messages_per_destination_per_hour: 2, cooldown_after_limit: 120 } });
    expect((await send(http.url('/a'), { policy })).exitCode).toBe(0);
    expect((await send(http.url('/b'), { policy, message: '{"n":2}' })).exitCode).toBe(0);
    const third = await send(http.url('/c'), { policy, message: '{"n":3}' });
    expect(third.exitCode).toBe(2);
    const limited = out(third).constraints_applied.find((constraint) => constraint.code === 'RATE_LIMITED')!;
    expect(limited.reason).toContain('max_messages_per_destination_per_hour');
    expect(limited.detail?.retry_after_seconds).toBeGreaterThanOrEqual(119);
    expect(out(third).next_actions.join(' ')).toContain('Do not retry');

    // Another destination (another origin) is under its own limit, but the cooldown holds everything.
    const other = await server();
    const policy2 = writePolicy({ noApprovalFor: [http.url('/'), other.url('/')], rate: { max_messages_per_destination_per_hour: 2, cooldown_after_limit: 120 } });
    const cooled = await send(other.url('/x'), { policy: policy2 });
    expect(cooled.exitCode).toBe(2);
    expect(codes(cooled)).toContain('COOLDOWN_ACTIVE');
    expect(http.count() + other.count()).toBe(2);
  });

  it('global per hour, and the per-call constraints.rate_limit "N/hour" form', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')], rate: { max_messages_per_hour: 3 } });
    for (let i = 0; i < 3; i += 1) expect((await send(http.url('/h'), { policy, message: `{"n":${i}}` })).exitCode).toBe(0);
    const fourth = await send(http.url('/h'), { policy, message: '{"n":4}' });
    expect(fourth.exitCode).toBe(2);
    expect(out(fourth).constraints_applied.find((constraint) => constraint.code === 'RATE_LIMITED')!.reason).toContain('max_messages_per_hour');

    rmSync(join(work, 'state'), { recursive: true, force: true });
    const perCall = ['--constraints', JSON.stringify({ rate_limit: '2/hour' })];
    expect((await send(http.url('/c'), { policy, args: perCall })).exitCode).toBe(0);
    expect((await send(http.url('/c'), { policy, args: perCall, message: '{"n":1}' })).exitCode).toBe(0);
    const third = await send(http.url('/c'), { policy, args: perCall, message: '{"n":2}' });
    expect(third.exitCode).toBe(2);
    expect(out(third).constraints_applied.find((constraint) => constraint.code === 'RATE_LIMITED')!.reason).toContain('constraints.rate_limit 2/hour');
    // Without the per-call constraint the policy's (higher) limits apply.
    expect((await send(http.url('/c'), { policy, message: '{"n":3}' })).exitCode).toBe(0);
    expect(http.count()).toBe(6);
  });

  it('a dry run counts toward no limit and consumes no approval', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/m')], rate: { max_messages_per_minute: 1 } });
    for (let i = 0; i < 3; i += 1) {
      const dry = await send(http.url('/m'), { policy, args: ['--dry-run'] });
      expect(dry.exitCode).toBe(0);
      expect(out(dry).delivery.status).toBe('dry_run');
    }
    expect((await send(http.url('/m'), { policy })).exitCode).toBe(0);
    expect(http.count()).toBe(1);
  });
});

describe('HTTP transport', () => {
  it('method, headers and a text body come from the message envelope', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const message = JSON.stringify({ method: 'PUT', headers: { 'X-Build': '142', 'X-Trace': 'abc' }, body: 'plain text body' });
    const result = await send(http.url('/items/7'), { policy, message });
    expect(result.exitCode).toBe(0);
    const received = http.requests[0]!;
    expect(received.method).toBe('PUT');
    expect(received.headers['x-build']).toBe('142');
    expect(received.headers['x-trace']).toBe('abc');
    expect(received.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(received.headers['user-agent']).toMatch(/^sendgate\//);
    expect(received.body).toBe('plain text body');
  });

  it('a JSON envelope body is sent as JSON; 202 is reported as queued', async () => {
    const http = await server();
    http.script('/jobs', { status: 202, body: '{"queued":true}' });
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/jobs'), { policy, message: JSON.stringify({ method: 'POST', json: { a: [1, 2] } }) });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery).toMatchObject({ status: 'queued', response_code: 202 });
    expect(http.requests[0]!.headers['content-type']).toBe('application/json');
    expect(http.requests[0]!.body).toBe('{"a":[1,2]}');
  });

  it('the response body is captured truncated as the confirmation', async () => {
    const http = await server();
    http.script('/big', { status: 200, body: 'x'.repeat(5_000) });
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/big'), { policy });
    expect(result.exitCode).toBe(0);
    const confirmation = out(result).delivery.confirmation!;
    expect(confirmation.startsWith('HTTP 200: xxxx')).toBe(true);
    expect(confirmation.length).toBeLessThanOrEqual(301);
    const stored = store().read('outbox').records[out(result).checkpoint_ref!]!.confirmation!;
    expect(stored).toContain('bytes)');
    expect(stored.length).toBeLessThan(700);
  });

  it('follows an allowed redirect hop (re-checked), and bounds the number of hops', async () => {
    const http = await server();
    http.script('/old', { status: 308, redirect: '/new' });
    http.script('/loop', { redirect: '/loop' });
    const policy = writePolicy({ noApprovalFor: [http.url('/')], http: { max_redirects: 2 } });
    const moved = await send(http.url('/old'), { policy });
    expect(moved.exitCode).toBe(0);
    expect(out(moved).evidence_anchors).toContain(`redirect:308 -> ${http.url('/new')}`);
    expect(http.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /old', 'POST /new']);
    expect(http.requests[1]!.body).toBe(http.requests[0]!.body); // 308 keeps the method and body

    const loop = await send(http.url('/loop'), { policy, message: '{"n":2}' });
    expect(loop.exitCode).toBe(1);
    expect(out(loop).delivery.error).toMatch(/^HTTP_TOO_MANY_REDIRECTS/);
    expect(out(loop).delivery.retry_count).toBe(0);
    expect(http.count('/loop')).toBe(3); // the first request and two hops
  });

  it('a redirect to a destination off the allowlist is not followed (loopback hop, so no netns needed)', async () => {
    const http = await server();
    http.script('/hooks/in', { redirect: '/elsewhere' });
    const policy = writePolicy({ noApprovalFor: [http.url('/')], allow: [http.url('/hooks/')] });
    const result = await send(http.url('/hooks/in'), { policy });
    expect(result.exitCode).toBe(2);
    expect(out(result).delivery.status).toBe('blocked');
    expect(out(result).delivery.error).toContain('HTTP_REDIRECT_BLOCKED');
    expect(out(result).delivery.error).toContain('DESTINATION_NOT_ALLOWED');
    expect(http.count('/elsewhere')).toBe(0);
  });

  it('a server that never answers times out; the attempts are bounded and reuse the Idempotency-Key', async () => {
    const http = await server();
    http.script('/slow', { hang: 'response' });
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/slow'), { policy, args: ['--timeout', '300', '--retry-policy', '{"max_attempts":2,"base_delay_ms":10,"max_delay_ms":20}'] });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery).toMatchObject({ status: 'failed', retry_count: 1 });
    expect(out(result).delivery.error).toMatch(/^HTTP_TIMEOUT/);
    expect(http.count()).toBe(2);
    expect(new Set(http.idempotencyKeys()).size).toBe(1);
    expect(result.ms).toBeLessThan(5_000);
  });

  it('a 2xx whose body never finishes is still a delivery (the status line is the confirmation)', async () => {
    const http = await server();
    http.script('/partial', { status: 200, body: 'started', hang: 'body' });
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/partial'), { policy, args: ['--timeout', '500'] });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery).toMatchObject({ status: 'sent', response_code: 200, retry_count: 0 });
    expect(out(result).delivery.confirmation).toContain('HTTP 200');
    expect(http.count()).toBe(1);
  });
});

describe('retries', () => {
  it('5xx is retried with backoff until it succeeds; retry_count reported; one Idempotency-Key', async () => {
    const http = await server();
    http.script('/flaky', [{ status: 503 }, { status: 502 }, { status: 200, body: 'finally' }]);
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/flaky'), { policy });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery).toMatchObject({ status: 'sent', retry_count: 2, confirmation: 'HTTP 200: finally' });
    expect(http.count()).toBe(3);
    expect(new Set(http.idempotencyKeys()).size).toBe(1);
    expect(store().read('outbox').records[out(result).checkpoint_ref!]!.attempts).toBe(3);
  });

  it('429 with Retry-After is honoured (the next attempt waits at least that long)', async () => {
    const http = await server();
    http.script('/limited', [{ status: 429, retryAfter: 1 }, { status: 200 }]);
    const policy = writePolicy({ noApprovalFor: [http.url('/')], delivery: { max_delay_ms: 5_000 } });
    const result = await send(http.url('/limited'), { policy });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery.retry_count).toBe(1);
    const [first, second] = http.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('a Retry-After longer than the policy allows ends the attempts now; 408 and 425 are retryable', async () => {
    const http = await server();
    http.script('/later', { status: 503, retryAfter: 3600 });
    http.script('/408', [{ status: 408 }, { status: 425 }, { status: 200 }]);
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const later = await send(http.url('/later'), { policy });
    expect(later.exitCode).toBe(1);
    expect(out(later).delivery).toMatchObject({ status: 'failed', response_code: 503, retry_count: 0 });
    expect(http.count('/later')).toBe(1);
    const recovered = await send(http.url('/408'), { policy, message: '{"n":2}' });
    expect(out(recovered).delivery).toMatchObject({ status: 'sent', retry_count: 2 });
  });

  it('a 4xx is not retried; the receiver\'s answer is reported', async () => {
    const http = await server();
    http.script('/bad', { status: 400, body: '{"error":"missing field text"}' });
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/bad'), { policy });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery).toMatchObject({ status: 'failed', response_code: 400, retry_count: 0 });
    expect(out(result).delivery.error).toContain('missing field text');
    expect(out(result).next_actions[0]).toContain('retrying will not help');
    expect(http.count()).toBe(1);
  });
});

describe('HTTPS: TLS verifies the real host name', () => {
  let pki: HttpsPki;
  beforeAll(async () => {
    pki = await createHttpsPki();
  });
  afterAll(async () => {
    await pki?.cleanup();
  });

  it('connects to the pinned address and verifies the certificate for the name in the URL', async () => {
    const https = await server({ tls: await pki.certificateFor(['api.sendgate.test']) });
    const url = `https://api.sendgate.test:${https.port}/hooks/tls`;
    const policy = writePolicy({ noApprovalFor: [`https://api.sendgate.test:${https.port}/`] });
    const result = await send(url, { policy, args: ['--resolve', 'api.sendgate.test=127.0.0.1'], env: { NODE_EXTRA_CA_CERTS: pki.caFile } });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(out(result).delivery).toMatchObject({ status: 'sent', response_code: 200 });
    expect(https.requests[0]).toMatchObject({ servername: 'api.sendgate.test', host: `api.sendgate.test:${https.port}`, path: '/hooks/tls' });
  });

  it('a certificate for another name is refused (HTTP_TLS_FAILED, not retried, nothing received)', async () => {
    const https = await server({ tls: await pki.certificateFor(['other.sendgate.test']) });
    const url = `https://api.sendgate.test:${https.port}/hooks/tls`;
    const policy = writePolicy({ noApprovalFor: [`https://api.sendgate.test:${https.port}/`] });
    const result = await send(url, { policy, args: ['--resolve', 'api.sendgate.test=127.0.0.1'], env: { NODE_EXTRA_CA_CERTS: pki.caFile } });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery.error).toMatch(/^HTTP_TLS_FAILED/);
    expect(out(result).delivery.retry_count).toBe(0);
    expect(https.count()).toBe(0);
  });

  it('a certificate from an untrusted CA is refused', async () => {
    const https = await server({ tls: await pki.certificateFor(['api.sendgate.test']) });
    const url = `https://api.sendgate.test:${https.port}/x`;
    const policy = writePolicy({ noApprovalFor: [`https://api.sendgate.test:${https.port}/`] });
    const result = await send(url, { policy, args: ['--resolve', 'api.sendgate.test=127.0.0.1'] });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery.error).toMatch(/^HTTP_TLS_FAILED/);
    expect(out(result).delivery.retry_count).toBe(0);
    expect(https.count()).toBe(0);
  });
});

describe('audit', () => {
  async function threeDeliveries(): Promise<{ policy: string; lines: string[] }> {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    for (let i = 1; i <= 3; i += 1) expect((await send(http.url('/a'), { policy, message: JSON.stringify({ n: i }) })).exitCode).toBe(0);
    return { policy, lines: readFileSync(auditFile(), 'utf8').trim().split('\n') };
  }

  it('every decision and delivery is one hash-chained JSONL record with the DESIGN fields, masked preview and sha256 of the body', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const body = JSON.stringify({ text: 'release notes', ref: 'REFabcdefghijklmnopqrstuvwxyz0123' });
    const result = await send(http.url('/a'), { policy, message: body, env: { CLAUDE_SESSION_ID: 'sess-1' } });
    expect(result.exitCode).toBe(0);
    const records = auditRecords();
    expect(records.map((record) => `${record.action}:${record.result}`)).toEqual(['decision:checking', 'delivery:sent']);
    const delivery = records[1]!;
    expect(delivery.id).toBe(out(result).audit_id);
    expect(delivery).toMatchObject({ skill: 'send', protocol: 'http', destination: http.url('/a'), triggered_by: 'cli', session_id: 'sess-1', checkpoint_ref: out(result).checkpoint_ref });
    expect(delivery.body_hash).toBe(createHash('sha256').update(body).digest('hex'));
    expect(delivery.body_preview).toContain('release notes');
    expect(delivery.body_preview).not.toContain('REFabcdefghijklmnopqrstuvwxyz0123');
    expect(delivery.verdicts).toEqual(expect.arrayContaining([{ code: 'CHECKPOINT_OK', result: 'pass' }]));
    expect(delivery.detail).toMatchObject({ retry_count: 0, response_code: 200 });
    expect(Date.parse(delivery.timestamp)).not.toBeNaN();
    expect(delivery.prev).toBe(records[0]!.hash);
    expect(delivery.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(auditFile(), 'utf8')).not.toContain('REFabcdefghijklmnopqrstuvwxyz0123');
  });

  it('verify passes on an intact log and names the first bad line when a record is edited', async () => {
    const { policy, lines } = await threeDeliveries();
    const ok = await runNode(AUDIT, ['verify', '--policy', policy]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain(`OK: ${lines.length} record(s)`);

    const edited = [...lines];
    edited[3] = edited[3]!.replace('"result":"sent"', '"result":"failed"');
    expect(edited[3]).not.toBe(lines[3]);
    writeFileSync(auditFile(), `${edited.join('\n')}\n`);
    const bad = await runNode(AUDIT, ['verify', '--policy', policy]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toContain('line 4:');
    expect(bad.stdout).toContain('edited');
  });

  it('verify names the line where a record was removed', async () => {
    const { policy, lines } = await threeDeliveries();
    writeFileSync(auditFile(), `${lines.filter((_, index) => index !== 2).join('\n')}\n`);
    const bad = await runNode(AUDIT, ['verify', '--policy', policy]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toContain('line 3:');
    expect(bad.stdout).toContain('removed');
  });

  it('verify names the line where records were reordered', async () => {
    const { policy, lines } = await threeDeliveries();
    const reordered = [...lines];
    [reordered[1], reordered[2]] = [reordered[2]!, reordered[1]!];
    writeFileSync(auditFile(), `${reordered.join('\n')}\n`);
    const bad = await runNode(AUDIT, ['verify', '--policy', policy]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toContain('line 2:');
    expect(bad.stdout).toContain('reordered');
  });

  it('prune applies retention by days and the log still verifies', async () => {
    const { policy, lines } = await threeDeliveries();
    const prune = await runNode(AUDIT, ['prune', '--days', '30', '--policy', policy]);
    expect(prune.exitCode).toBe(0);
    expect(prune.stdout).toContain('Pruned 0 record(s)');
    expect(readFileSync(auditFile(), 'utf8').trim().split('\n')).toEqual(lines);
    const verify = await runNode(AUDIT, ['verify', '--policy', policy]);
    expect(verify.exitCode).toBe(0);
  });
});

describe('bad input: a clear error, and nothing lost', () => {
  it('malformed --message JSON: exit 64, nothing sent, no state touched', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/a'), { policy, message: '{"text": "unterminated' });
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('MESSAGE_INVALID');
    expect(result.stderr).toContain('does not parse');
    expect(http.count()).toBe(0);
    expect(existsSync(join(work, 'state', 'rate.json'))).toBe(false);
  });

  it('an unknown protocol: exit 64', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    const result = await runNode(SEND, ['--destination', http.url('/a'), '--protocol', 'gopher', '--message', 'hi', '--policy', policy]);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('--protocol gopher');
    expect(http.count()).toBe(0);
  });

  it('a corrupt state file blocks the send (exit 2, STATE_CORRUPT) and is left exactly as it was', async () => {
    const http = await server();
    const policy = writePolicy({ noApprovalFor: [http.url('/')] });
    expect((await send(http.url('/a'), { policy })).exitCode).toBe(0);
    const rateFile = join(work, 'state', 'rate.json');
    const corrupt = '{"version":1,"events":[{"at":12';
    writeFileSync(rateFile, corrupt);
    const result = await send(http.url('/a'), { policy, message: '{"n":2}' });
    expect(result.exitCode).toBe(2);
    // The full contract, with the reason: which file, and that it is not reset.
    expect(out(result).delivery.status).toBe('blocked');
    expect(codes(result)).toContain('STATE_CORRUPT');
    expect(out(result).delivery.error).toContain(rateFile);
    expect(out(result).delivery.error).toContain('not JSON');
    expect(readFileSync(rateFile, 'utf8')).toBe(corrupt);
    expect(http.count()).toBe(1);
    // The block itself is on the audit record.
    expect(auditRecords().at(-1)).toMatchObject({ action: 'decision', result: 'blocked' });
    expect(auditRecords().at(-1)!.verdicts).toContainEqual({ code: 'STATE_CORRUPT', result: 'block' });
  });

  it('a state file with the wrong shape, or a damaged approval key, blocks too and is left as it was', async () => {
    const http = await server();
    const policy = writePolicy();
    const first = await send(http.url('/a'), { policy });
    const token = await approveInProcess(out(first).approval.request_id!);
    const approvals = join(work, 'state', 'approvals.json');
    const wrongShape = JSON.stringify({ version: 1, pending: [], consumed: {} });
    writeFileSync(approvals, wrongShape);
    const shape = await send(http.url('/a'), { policy, token });
    expect(shape.exitCode).toBe(2);
    expect(codes(shape)).toContain('STATE_CORRUPT');
    expect(readFileSync(approvals, 'utf8')).toBe(wrongShape);

    rmSync(approvals);
    const keyFile = join(work, 'state', 'approval.key');
    writeFileSync(keyFile, 'short\n', { mode: 0o600 });
    const key = await send(http.url('/a'), { policy, token });
    expect(key.exitCode).toBe(2);
    expect(codes(key)).toContain('STATE_CORRUPT');
    expect(readFileSync(keyFile, 'utf8')).toBe('short\n');
    expect(http.count()).toBe(0);
  });

  it('an unwritable audit path blocks the send (exit 2): no audit, no send, nothing counted', async () => {
    const http = await server();
    const notADirectory = join(work, 'a-file');
    writeFileSync(notADirectory, 'x');
    const policy = writePolicy({ noApprovalFor: [http.url('/')], audit: { path: join(notADirectory, 'audit.jsonl') } });
    const result = await send(http.url('/a'), { policy });
    expect(result.exitCode).toBe(2);
    expect(out(result).delivery.status).toBe('blocked');
    expect(codes(result)).toContain('AUDIT_UNAVAILABLE');
    expect(out(result).delivery.error ?? out(result).constraints_applied.find((c) => c.code === 'AUDIT_UNAVAILABLE')!.reason).toContain('no audit, no send');
    expect(http.count()).toBe(0);
    expect(existsSync(join(work, 'state', 'rate.json'))).toBe(false);
    expect(existsSync(join(work, 'state', 'outbox.json'))).toBe(false);
  });

  it('draft mode proposes and never sends', async () => {
    const http = await server();
    const policy = writePolicy({ mode: 'draft', noApprovalFor: [http.url('/')] });
    const result = await send(http.url('/a'), { policy });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery.status).toBe('draft');
    expect(http.count()).toBe(0);
  });
});
