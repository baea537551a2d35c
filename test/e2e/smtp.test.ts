/**
 * E-mail end to end: the real CLI (scripts/send.ts under tsx, a child process) against a real SMTP
 * server (smtp-server) on 127.0.0.1, with a CA generated for the run, STARTTLS and AUTH.
 * Covers the send capability's Example 2: delivery with the 250 reply as confirmation, the guards
 * (e-mail allowlist incl. cc/bcc, rate limits per recipient, payload scanning of subject and body),
 * every failure (refused, timeout, 5xx recipient, auth) with retry_count / error / next_actions and
 * no retry after a 5xx, plus approval, checkpoint resume and audit as for HTTP.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stableMessageId } from '../../src/transports/smtp.ts';
import { approveOnTerminal, cliEnv, runCli, writePolicyFile } from './support/cli.ts';
import {
  createTestPki,
  SMTP_TEST_HOST,
  SMTP_TEST_PASSWORD,
  SMTP_TEST_USER,
  startSmtpServer,
  type StartOptions,
  type TestPki,
  type TestSmtpServer,
} from './support/smtp-server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const FROM = 'assistant@sendgate.test';

let pki: TestPki;
let work: string;
let servers: TestSmtpServer[] = [];

beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki?.cleanup();
});
beforeEach(() => {
  // A fresh state directory (rate windows, approvals, outbox, audit) and HOME for every test.
  work = mkdtempSync(join(tmpdir(), 'sendgate-e2e-smtp-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  rmSync(work, { recursive: true, force: true });
});

async function server(options: Omit<StartOptions, 'pki'> = {}): Promise<TestSmtpServer> {
  const started = await startSmtpServer({ pki, ...options });
  servers.push(started);
  return started;
}

interface PolicyOptions {
  allow?: string[];
  approval?: boolean;
  rate?: Record<string, number>;
  denyPatterns?: string[];
  extraSmtp?: Record<string, unknown>;
}

function writePolicy(options: PolicyOptions = {}): string {
  const policy = {
    version: 1,
    approval: { required: options.approval ?? false },
    network: { allow_private: ['127.0.0.1/32'] },
    destinations: { allow: options.allow ?? [SMTP_TEST_HOST, '*@example.com'] },
    payload: { secrets: 'block', deny_patterns: options.denyPatterns ?? [] },
    ...(options.rate ? { rate_limit: options.rate } : {}),
    smtp: { from: FROM, ca_file: pki.caFile, ...options.extraSmtp },
  };
  return writePolicyFile(work, policy);
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  output: SendJson;
}

interface SendJson {
  sent: boolean;
  delivery: { status: string; protocol: string; destination: string; response_code: number | null; confirmation: string | null; retry_count: number; error: string | null; delivered_at: string | null };
  constraints_applied: { code: string; result: string; reason: string }[];
  approval: { required: boolean; status: string; request_id: string | null; how_to_approve: string | null };
  next_actions: string[];
  evidence_anchors: string[];
  checkpoint_ref: string | null;
  audit_id: string | null;
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cliEnv(work, { SENDGATE_SMTP_USER: SMTP_TEST_USER, SENDGATE_SMTP_PASSWORD: SMTP_TEST_PASSWORD, ...extra });
}

/** Run the send CLI asynchronously: the SMTP server lives in this process and must keep answering. */
async function runSend(port: number, message: Record<string, unknown>, options: { policy?: string; args?: string[]; env?: NodeJS.ProcessEnv; scheme?: string } = {}): Promise<RunResult> {
  const args = [
    join(ROOT, 'scripts', 'send.ts'),
    '--protocol', 'smtp',
    '--destination', `${options.scheme ?? 'smtp'}://${SMTP_TEST_HOST}:${port}`,
    '--resolve', `${SMTP_TEST_HOST}=127.0.0.1`,
    '--policy', options.policy ?? writePolicy(),
    '--message', JSON.stringify(message),
    '--format', 'json',
    ...(options.args ?? []),
  ];
  const { exitCode, stdout, stderr } = await runCli(TSX, args, { cwd: work, env: childEnv(options.env), timeoutMs: 60_000 });
  let output: SendJson;
  try {
    output = JSON.parse(stdout) as SendJson;
  } catch {
    throw new Error(`send printed no JSON (exit ${exitCode}):\n${stdout}\n${stderr}`);
  }
  return { exitCode, stdout, stderr, output };
}

const MESSAGE = { to: 'alice@example.com', subject: 'Build 42 is green', body: 'All checks passed.\nDeploy window opens at 14:00.' };
// A made-up AWS access key id (format-valid, not a real credential).
const SECRET = 'AKIA' + 'Z7QHSB4LYX3TQW5M';


const FAST_RETRIES = ['--retry-policy', JSON.stringify({ max_attempts: 3, base_delay_ms: 20, max_delay_ms: 50 })];

function codes(result: RunResult): string[] {
  return result.output.constraints_applied.map((constraint) => constraint.code);
}

describe('send --protocol smtp: delivery', () => {
  it('delivers over STARTTLS + AUTH, prints the 250 reply as the confirmation, Message-ID bound to the checkpoint', async () => {
    const smtp = await server();
    const result = await runSend(smtp.port, { ...MESSAGE, cc: ['bob@example.com'], bcc: 'audit@example.com' });

    expect(result.exitCode).toBe(0);
    expect(result.output.sent).toBe(true);
    expect(result.output.delivery.status).toBe('sent');
    expect(result.output.delivery.protocol).toBe('smtp');
    expect(result.output.delivery.response_code).toBe(250);
    expect(result.output.delivery.retry_count).toBe(0);
    expect(result.output.delivery.error).toBeNull();

    expect(smtp.messages).toHaveLength(1);
    const received = smtp.messages[0]!;
    expect(result.output.delivery.confirmation).toBe(`250 OK: queued as ${received.queueId}`);
    expect(received.secure).toBe(true);
    expect(received.user).toBe(SMTP_TEST_USER);
    expect(received.mailFrom).toBe(FROM);
    expect([...received.rcptTo].sort()).toEqual(['alice@example.com', 'audit@example.com', 'bob@example.com']);
    expect(received.header('from')).toBe(FROM);
    expect(received.header('to')).toBe('alice@example.com');
    expect(received.header('cc')).toBe('bob@example.com');
    expect(received.header('bcc')).toBeUndefined();
    expect(received.raw).not.toContain('audit@example.com');
    expect(received.header('subject')).toBe(MESSAGE.subject);
    expect(received.text).toBe(MESSAGE.body);
    const checkpoint = result.output.checkpoint_ref!;
    expect(checkpoint).toBeTruthy();
    expect(received.header('message-id')).toBe(stableMessageId(`sendgate-${checkpoint}`, 'sendgate.test'));
    expect(result.output.evidence_anchors.join('\n')).toContain('certificate verified');

    // Nothing the CLI printed carries the password.
    expect(`${result.stdout}${result.stderr}`).not.toContain(SMTP_TEST_PASSWORD);
  });

  it('delivers over implicit TLS (smtps://)', async () => {
    const smtp = await server({ tls: 'implicit' });
    const result = await runSend(smtp.port, MESSAGE, { scheme: 'smtps' });
    expect(result.exitCode).toBe(0);
    expect(result.output.delivery.status).toBe('sent');
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.secure).toBe(true);
  });

  it('writes an audit record for the decision and the delivery, with no credential in it', async () => {
    const smtp = await server();
    const result = await runSend(smtp.port, MESSAGE);
    expect(result.exitCode).toBe(0);
    const auditDir = join(work, 'state', 'audit');
    const log = readdirSync(auditDir).map((name) => readFileSync(join(auditDir, name), 'utf8')).join('');
    const records = log.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const delivery = records.find((record) => record.action === 'delivery');
    expect(delivery).toBeDefined();
    expect(delivery!.result).toBe('sent');
    expect(delivery!.protocol).toBe('smtp');
    expect(delivery!.id).toBe(result.output.audit_id);
    expect(log).not.toContain(SMTP_TEST_PASSWORD);
  });
});

describe('send --protocol smtp: guards', () => {
  for (const field of ['to', 'cc', 'bcc'] as const) {
    it(`blocks a recipient off the e-mail allowlist in ${field} (exit 2, DESTINATION_NOT_ALLOWED), before connecting`, async () => {
      const smtp = await server();
      const message = { ...MESSAGE, [field]: field === 'to' ? 'mallory@evil.example.org' : ['mallory@evil.example.org'] };
      const result = await runSend(smtp.port, message);
      expect(result.exitCode).toBe(2);
      expect(result.output.delivery.status).toBe('blocked');
      expect(codes(result)).toContain('DESTINATION_NOT_ALLOWED');
      expect(result.output.delivery.error).toContain('mallory@evil.example.org');
      expect(smtp.connections).toBe(0);
    });
  }

  it('allows exactly the addresses and domains listed', async () => {
    const smtp = await server();
    const policy = writePolicy({ allow: [SMTP_TEST_HOST, 'alice@example.com', '*@partner.example.net'] });
    const ok = await runSend(smtp.port, { ...MESSAGE, cc: 'carol@partner.example.net' }, { policy });
    expect(ok.exitCode).toBe(0);
    const blocked = await runSend(smtp.port, { ...MESSAGE, cc: 'bob@example.com' }, { policy });
    expect(blocked.exitCode).toBe(2);
    expect(codes(blocked)).toContain('DESTINATION_NOT_ALLOWED');
    expect(smtp.messages).toHaveLength(1);
  });

  it('counts every recipient against the rate limits', async () => {
    const smtp = await server();
    const policy = writePolicy({ rate: { max_messages_per_minute: 3, max_messages_per_hour: 30, max_messages_per_destination_per_hour: 1, cooldown_after_limit: 0 } });
    const first = await runSend(smtp.port, { ...MESSAGE, to: ['alice@example.com', 'bob@example.com'], cc: 'carol@example.com' }, { policy });
    expect(first.exitCode).toBe(0);
    // A fourth recipient this minute: over max_messages_per_minute (3), although dave is new.
    const second = await runSend(smtp.port, { ...MESSAGE, to: 'dave@example.com' }, { policy });
    expect(second.exitCode).toBe(2);
    expect(second.output.delivery.status).toBe('blocked');
    expect(codes(second)).toContain('RATE_LIMITED');
    expect(smtp.messages).toHaveLength(1);
  });

  it('limits each recipient per hour, bcc included', async () => {
    const smtp = await server();
    const policy = writePolicy({ rate: { max_messages_per_minute: 10, max_messages_per_hour: 30, max_messages_per_destination_per_hour: 1, cooldown_after_limit: 0 } });
    expect((await runSend(smtp.port, { ...MESSAGE, bcc: 'audit@example.com' }, { policy })).exitCode).toBe(0);
    const again = await runSend(smtp.port, { ...MESSAGE, to: 'bob@example.com', bcc: 'audit@example.com' }, { policy });
    expect(again.exitCode).toBe(2);
    expect(codes(again)).toContain('RATE_LIMITED');
    expect(smtp.messages).toHaveLength(1);
  });

  it('scans the subject with the payload guard (deny pattern in the subject: exit 2)', async () => {
    const smtp = await server();
    const policy = writePolicy({ denyPatterns: ['project\\s+nightingale'] });
    const result = await runSend(smtp.port, { ...MESSAGE, subject: 'status of project nightingale' }, { policy });
    expect(result.exitCode).toBe(2);
    expect(codes(result)).toContain('DENY_PATTERN_MATCHED');
    expect(smtp.connections).toBe(0);
  });

  // The secret scanner (src/secrets) plugs into the payload guard; these run once it is wired in
  // (probed in-process with the same guards the CLI runs).
  for (const where of ['subject', 'body'] as const) {
    it(`blocks a secret in the ${where} (exit 2, SECRET_IN_PAYLOAD), nothing sent, nothing echoed`, async () => {
      const smtp = await server();
      const secret = SECRET;
      const message = where === 'subject' ? { ...MESSAGE, subject: `token ${secret}` } : { ...MESSAGE, body: `here is the key: ${secret}` };
      const result = await runSend(smtp.port, message);
      expect(result.exitCode).toBe(2);
      expect(codes(result)).toContain('SECRET_IN_PAYLOAD');
      expect(result.stdout).not.toContain(secret);
      expect(smtp.connections).toBe(0);
    });
  }
});

describe('send --protocol smtp: failures', () => {
  function expectFailed(result: RunResult, code: string, retryCount: number): void {
    expect(result.exitCode).toBe(1);
    expect(result.output.sent).toBe(false);
    expect(result.output.delivery.status).toBe('failed');
    expect(result.output.delivery.retry_count).toBe(retryCount);
    expect(result.output.delivery.error).toMatch(new RegExp(`^${code}: `));
    expect(result.output.next_actions.length).toBeGreaterThan(0);
    expect(result.output.checkpoint_ref).toBeTruthy();
    expect(`${result.stdout}${result.stderr}`).not.toContain(SMTP_TEST_PASSWORD);
  }

  it('connection refused: failed, retried, SMTP_CONNECT_FAILED', async () => {
    const gone = await startSmtpServer({ pki });
    const port = gone.port;
    await gone.stop();
    const result = await runSend(port, MESSAGE, { args: FAST_RETRIES });
    expectFailed(result, 'SMTP_CONNECT_FAILED', 2);
    expect(result.output.next_actions.join(' ')).toContain('--checkpoint-ref');
  });

  it('timeout (server never greets): failed, retried, SMTP_TIMEOUT', async () => {
    const smtp = await server({ behaviour: { hang: 'greeting' } });
    const result = await runSend(smtp.port, MESSAGE, { args: ['--timeout', '700', '--retry-policy', JSON.stringify({ max_attempts: 2, base_delay_ms: 20, max_delay_ms: 50 })] });
    expectFailed(result, 'SMTP_TIMEOUT', 1);
    expect(smtp.connections).toBe(2);
    expect(smtp.messages).toHaveLength(0);
  });

  it('recipient rejected with 550: failed, never retried (the server sees exactly one attempt)', async () => {
    const smtp = await server({ behaviour: { rejectRecipients: new Set(['alice@example.com']) } });
    const result = await runSend(smtp.port, MESSAGE, { args: FAST_RETRIES });
    expectFailed(result, 'SMTP_RECIPIENT_REJECTED', 0);
    expect(result.output.delivery.response_code).toBe(550);
    expect(result.output.delivery.error).toContain('550');
    expect(smtp.connections).toBe(1);
    expect(smtp.transactions).toBe(1);
    expect(smtp.messages).toHaveLength(0);
    expect(result.output.next_actions.join(' ')).toMatch(/retrying will not help/);
  });

  it('recipient deferred with 451: retried until the attempts run out', async () => {
    const smtp = await server({ behaviour: { deferRecipients: new Set(['alice@example.com']) } });
    const result = await runSend(smtp.port, MESSAGE, { args: FAST_RETRIES });
    expectFailed(result, 'SMTP_RECIPIENT_REJECTED', 2);
    expect(result.output.delivery.response_code).toBe(451);
    expect(smtp.transactions).toBe(3);
  });

  it('authentication failure: failed, not retried, SMTP_AUTH_FAILED, no credential in the output', async () => {
    const smtp = await server({ behaviour: { failAuth: true } });
    const result = await runSend(smtp.port, MESSAGE, { args: FAST_RETRIES });
    expectFailed(result, 'SMTP_AUTH_FAILED', 0);
    expect(result.output.delivery.response_code).toBe(535);
    expect(smtp.failedLogins).toBe(1);
    expect(smtp.transactions).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain(SMTP_TEST_USER);
  });

  it('an untrusted certificate: failed, not retried, SMTP_TLS_FAILED', async () => {
    const smtp = await server();
    const result = await runSend(smtp.port, MESSAGE, { policy: writePolicy({ extraSmtp: { ca_file: null } }), args: FAST_RETRIES });
    expectFailed(result, 'SMTP_TLS_FAILED', 0);
    expect(smtp.transactions).toBe(0);
  });

  it('a password file others can read is refused (ConfigError), nothing sent', async () => {
    const smtp = await server();
    const file = join(work, 'smtp-password');
    writeFileSync(file, SMTP_TEST_PASSWORD, { mode: 0o644 });
    const result = await runCli(
      TSX,
      [join(ROOT, 'scripts', 'send.ts'), '--protocol', 'smtp', '--destination', `smtp://${SMTP_TEST_HOST}:${smtp.port}`, '--resolve', `${SMTP_TEST_HOST}=127.0.0.1`,
        '--policy', writePolicy({ extraSmtp: { password_file: file } }), '--message', JSON.stringify(MESSAGE), '--format', 'json'],
      { cwd: work, env: childEnv({ SENDGATE_SMTP_PASSWORD: undefined }) },
    );
    // The pipeline runs the transport's preflight (checkSmtpConfig) before any state changes: exit 78.
    expect(result.exitCode).toBe(78);
    expect(`${result.stdout}${result.stderr}`).toContain('chmod 600');
    expect(`${result.stdout}${result.stderr}`).not.toContain(SMTP_TEST_PASSWORD);
    expect(smtp.connections).toBe(0);
  });
});

describe('send --protocol smtp: approval and checkpoint', () => {
  /** The human's side: approve.ts on a real terminal (script(1) gives it a pty), answering "yes". */
  async function approve(requestId: string, policy: string): Promise<string> {
    const approval = await approveOnTerminal([TSX, join(ROOT, 'scripts', 'approve.ts'), 'approve', requestId, '--policy', policy], { cwd: work, env: childEnv(), timeoutMs: 60_000 });
    if (!approval.token) throw new Error(`no token from approve (exit ${approval.exitCode}):\n${approval.output}`);
    return approval.token;
  }

  it('needs approval (exit 3) and sends nothing until the human approves; the token sends it once', async () => {
    const smtp = await server();
    const policy = writePolicy({ approval: true });
    const first = await runSend(smtp.port, MESSAGE, { policy });
    expect(first.exitCode).toBe(3);
    expect(first.output.delivery.status).toBe('approval_required');
    expect(first.output.approval.request_id).toBeTruthy();
    expect(smtp.connections).toBe(0);

    const token = await approve(first.output.approval.request_id!, policy);
    const sent = await runSend(smtp.port, MESSAGE, { policy, args: ['--approval-token', token] });
    expect(sent.exitCode).toBe(0);
    expect(sent.output.delivery.status).toBe('sent');
    expect(sent.output.approval.status).toBe('consumed');
    expect(smtp.messages).toHaveLength(1);

    // The same token again: already delivered, not sent twice.
    const again = await runSend(smtp.port, MESSAGE, { policy, args: ['--approval-token', token] });
    expect(again.exitCode).toBe(0);
    expect(codes(again)).toContain('ALREADY_DELIVERED');
    expect(smtp.messages).toHaveLength(1);

    // A token is bound to the message: another body needs another approval.
    const changed = await runSend(smtp.port, { ...MESSAGE, body: 'something else' }, { policy, args: ['--approval-token', token] });
    expect(changed.exitCode).toBe(3);
    expect(smtp.messages).toHaveLength(1);
  });

  it('resumes a failed checkpoint with the same Message-ID; the retry counts toward the limits, a replay of the delivered one does not', async () => {
    const first = await startSmtpServer({ pki });
    const port = first.port;
    await first.stop();
    const policy = writePolicy({ rate: { max_messages_per_minute: 10, max_messages_per_hour: 30, max_messages_per_destination_per_hour: 2, cooldown_after_limit: 0 } });
    const failed = await runSend(port, MESSAGE, { policy, args: ['--retry-policy', JSON.stringify({ max_attempts: 1 })] });
    expect(failed.exitCode).toBe(1);
    const checkpoint = failed.output.checkpoint_ref!;

    const smtp = await server({ port });
    const resumed = await runSend(port, MESSAGE, { policy, args: ['--checkpoint-ref', checkpoint] });
    expect(resumed.exitCode).toBe(0);
    expect(resumed.output.delivery.status).toBe('sent');
    expect(resumed.output.checkpoint_ref).toBe(checkpoint);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.header('message-id')).toBe(stableMessageId(`sendgate-${checkpoint}`, 'sendgate.test'));

    // Delivered: the checkpoint does not send again, and the replay counts for nothing.
    const replay = await runSend(port, MESSAGE, { policy, args: ['--checkpoint-ref', checkpoint] });
    expect(replay.exitCode).toBe(0);
    expect(codes(replay)).toContain('ALREADY_DELIVERED');
    expect(smtp.messages).toHaveLength(1);
    // The failed attempt and its retry used both of this recipient's slots for the hour.
    const another = await runSend(port, { ...MESSAGE, subject: 'Another one' }, { policy });
    expect(another.exitCode).toBe(2);
    expect(codes(another)).toContain('RATE_LIMITED');
  });
});
