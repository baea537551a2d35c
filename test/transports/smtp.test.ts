/**
 * The SMTP transport against a real SMTP server (smtp-server) on 127.0.0.1: what arrives (envelope,
 * headers, body), how TLS is verified, and the code / retryable flag of every failure.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policySchema, type PolicyInput } from '../../src/config/schema.ts';
import { ConfigError, DeliveryError } from '../../src/errors.ts';
import type { MailMessage } from '../../src/message/types.ts';
import { parseDestination } from '../../src/target/parse.ts';
import { deliverSmtp, stableMessageId } from '../../src/transports/smtp.ts';
import type { DeliveryAttempt } from '../../src/transports/types.ts';
import {
  createTestPki,
  SMTP_TEST_HOST,
  SMTP_TEST_PASSWORD,
  SMTP_TEST_USER,
  startSmtpServer,
  type TestPki,
  type TestSmtpServer,
} from '../e2e/support/smtp-server.ts';

const FROM = 'assistant@sendgate.test';
const CREDENTIAL_ENV = { SENDGATE_SMTP_USER: SMTP_TEST_USER, SENDGATE_SMTP_PASSWORD: SMTP_TEST_PASSWORD };

let pki: TestPki;
let tmp: string;

beforeAll(async () => {
  pki = await createTestPki();
  tmp = mkdtempSync(join(tmpdir(), 'sendgate-smtp-test-'));
});

afterAll(async () => {
  await pki?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function mail(overrides: Partial<MailMessage> = {}): MailMessage {
  return { protocol: 'smtp', to: ['alice@example.com'], cc: [], bcc: [], subject: 'Build 42 is green', text: 'All checks passed.\nSee you tomorrow.', html: null, ...overrides };
}

function attempt(
  server: { port: number },
  options: { destination?: string; host?: string; addresses?: string[]; message?: MailMessage; policy?: Partial<PolicyInput['smtp']> & Record<string, unknown>; env?: NodeJS.ProcessEnv; timeoutMs?: number; idempotencyKey?: string } = {},
): DeliveryAttempt<MailMessage> {
  const host = options.host ?? SMTP_TEST_HOST;
  const destination = options.destination ?? `smtp://${host}:${server.port}`;
  const parsed = parseDestination(destination, 'smtp');
  if (!parsed.ok) throw new Error(parsed.reason);
  const policy = policySchema.parse({ version: 1, smtp: { from: FROM, ca_file: pki.caFile, ...options.policy } });
  const endpointHost = parsed.target.kind === 'url' ? parsed.target.host : host;
  return {
    target: parsed.target,
    endpoint: { host: endpointHost, hostKind: /^\d/.test(endpointHost) ? 'ipv4' : 'name', port: server.port, addresses: options.addresses ?? ['127.0.0.1'] },
    message: options.message ?? mail(),
    policy,
    timeoutMs: options.timeoutMs ?? 5_000,
    idempotencyKey: options.idempotencyKey ?? 'checkpoint-1',
    env: options.env ?? { ...CREDENTIAL_ENV },
  };
}

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the delivery to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

async function withServer<T>(options: Omit<Parameters<typeof startSmtpServer>[0], 'pki'>, body: (server: TestSmtpServer) => Promise<T>): Promise<T> {
  const server = await startSmtpServer({ pki, ...options });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

describe('deliverSmtp: delivery', () => {
  it('delivers over STARTTLS with AUTH: envelope, headers, body, and the 250 reply as confirmation', async () => {
    await withServer({}, async (server) => {
      const message = mail({ to: ['alice@example.com'], cc: ['bob@example.com'], bcc: ['audit@example.org'] });
      const result = await deliverSmtp(attempt(server, { message }));

      expect(server.messages).toHaveLength(1);
      const received = server.messages[0]!;
      expect(received.secure).toBe(true);
      expect(received.user).toBe(SMTP_TEST_USER);
      expect(server.logins).toEqual([SMTP_TEST_USER]);
      expect(received.mailFrom).toBe(FROM);
      expect(received.rcptTo.sort()).toEqual(['alice@example.com', 'audit@example.org', 'bob@example.com']);
      expect(received.header('from')).toBe(FROM);
      expect(received.header('to')).toBe('alice@example.com');
      expect(received.header('cc')).toBe('bob@example.com');
      expect(received.header('bcc')).toBeUndefined();
      expect(received.raw).not.toContain('audit@example.org');
      expect(received.header('subject')).toBe('Build 42 is green');
      expect(received.header('message-id')).toBe(stableMessageId('checkpoint-1', 'sendgate.test'));
      expect(received.header('date')).toBeTruthy();
      expect(received.text).toBe('All checks passed.\nSee you tomorrow.');

      expect(result.status).toBe('sent');
      expect(result.responseCode).toBe(250);
      expect(result.confirmation).toBe(`250 OK: queued as ${received.queueId}`);
      expect(result.evidence.join('\n')).toContain('STARTTLS');
      expect(result.evidence.join('\n')).toContain('certificate verified');
      expect(result.evidence.join('\n')).toContain(stableMessageId('checkpoint-1', 'sendgate.test'));
      expect(JSON.stringify(result)).not.toContain(SMTP_TEST_PASSWORD);
    });
  });

  it('connects to the vetted address only: the host name is never resolved (mail.sendgate.test has no DNS)', async () => {
    await withServer({}, async (server) => {
      const result = await deliverSmtp(attempt(server));
      expect(result.evidence[0]).toContain(`${SMTP_TEST_HOST}:${server.port} via 127.0.0.1`);
    });
  });

  it('moves on to the next vetted address when one refuses the connection', async () => {
    await withServer({}, async (server) => {
      // 127.0.0.2 is loopback too, but nothing listens there on this port.
      const result = await deliverSmtp(attempt(server, { addresses: ['127.0.0.2', '127.0.0.1'] }));
      expect(result.status).toBe('sent');
      expect(result.evidence[0]).toContain('via 127.0.0.1');
      expect(server.messages).toHaveLength(1);
    });
  });

  it('uses a stable Message-ID: the same checkpoint re-sends the same id, another checkpoint gets another', async () => {
    await withServer({}, async (server) => {
      await deliverSmtp(attempt(server, { idempotencyKey: 'ckpt-a' }));
      await deliverSmtp(attempt(server, { idempotencyKey: 'ckpt-a' }));
      await deliverSmtp(attempt(server, { idempotencyKey: 'ckpt-b' }));
      const ids = server.messages.map((received) => received.header('message-id'));
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).not.toBe(ids[0]);
      expect(ids[0]).toMatch(/^<sendgate\.[0-9a-f]{32}@sendgate\.test>$/);
    });
  });

  it('sends html alongside the text, and non-ASCII subject and body intact', async () => {
    await withServer({}, async (server) => {
      const message = mail({ subject: 'Grüße – état ✓', text: 'Ünïcödé body ✓', html: '<p>Hello <b>there</b></p>' });
      await deliverSmtp(attempt(server, { message }));
      const received = server.messages[0]!;
      expect(received.header('subject')).toBe('Grüße – état ✓');
      expect(received.text).toBe('Ünïcödé body ✓');
      expect(received.html).toBe('<p>Hello <b>there</b></p>');
    });
  });

  it('sends to a mailto: destination through smtp.server, the destination addresses in To', async () => {
    await withServer({}, async (server) => {
      const message = mail({ to: [], cc: ['carol@example.com'] });
      await deliverSmtp(attempt(server, { destination: 'mailto:dave@example.com', message, policy: { server: `smtp://${SMTP_TEST_HOST}:${server.port}` } }));
      const received = server.messages[0]!;
      expect(received.rcptTo.sort()).toEqual(['carol@example.com', 'dave@example.com']);
      expect(received.header('to')).toBe('dave@example.com');
      expect(received.header('cc')).toBe('carol@example.com');
    });
  });

  it('delivers over implicit TLS (smtps://)', async () => {
    await withServer({ tls: 'implicit' }, async (server) => {
      const result = await deliverSmtp(attempt(server, { destination: `smtps://${SMTP_TEST_HOST}:${server.port}` }));
      expect(result.evidence[0]).toContain('implicit TLS');
      expect(server.messages).toHaveLength(1);
      expect(server.messages[0]!.secure).toBe(true);
    });
  });

  it('verifies an IP-literal server against the certificate IP address', async () => {
    await withServer({}, async (server) => {
      const result = await deliverSmtp(attempt(server, { destination: `smtp://127.0.0.1:${server.port}`, host: '127.0.0.1' }));
      expect(result.status).toBe('sent');
      expect(server.messages).toHaveLength(1);
    });
  });

  it('sends without AUTH when no credentials are configured', async () => {
    await withServer({ requireAuth: false }, async (server) => {
      await deliverSmtp(attempt(server, { env: {} }));
      expect(server.logins).toEqual([]);
      expect(server.messages).toHaveLength(1);
      expect(server.messages[0]!.user).toBeNull();
    });
  });

  it('reads the password from a 0600 file named by smtp.password_file', async () => {
    const file = join(tmp, 'smtp-password');
    writeFileSync(file, `${SMTP_TEST_PASSWORD}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    await withServer({}, async (server) => {
      await deliverSmtp(attempt(server, { env: { SENDGATE_SMTP_USER: SMTP_TEST_USER }, policy: { password_file: file } }));
      expect(server.logins).toEqual([SMTP_TEST_USER]);
    });
  });
});

describe('deliverSmtp: configuration', () => {
  const port = { port: 1 }; // never reached: each of these fails before connecting

  it('refuses a password file others can read (ConfigError)', async () => {
    const file = join(tmp, 'loose-password');
    writeFileSync(file, SMTP_TEST_PASSWORD);
    chmodSync(file, 0o644);
    const error = await deliverSmtp(attempt(port, { env: { SENDGATE_SMTP_USER: SMTP_TEST_USER }, policy: { password_file: file } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INSECURE');
    expect((error as ConfigError).message).toContain('chmod 600');
    expect((error as ConfigError).message).not.toContain(SMTP_TEST_PASSWORD);
  });

  it('needs smtp.from (ConfigError)', async () => {
    const error = await deliverSmtp(attempt(port, { policy: { from: null } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).keyPath).toBe('smtp.from');
  });

  it('refuses a user name without a password (ConfigError), and never echoes the user name env value', async () => {
    const error = await deliverSmtp(attempt(port, { env: { SENDGATE_SMTP_USER: SMTP_TEST_USER } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(SMTP_TEST_USER);
  });

  it('refuses a recipient that is not a plain address before connecting', async () => {
    const error = await deliveryError(deliverSmtp(attempt(port, { message: mail({ to: ['Bob <bob@example.com>'] }) })));
    expect(error.code).toBe('SMTP_RECIPIENT_INVALID');
    expect(error.retryable).toBe(false);
  });
});

describe('deliverSmtp: TLS', () => {
  it('refuses a server whose certificate is not trusted (no smtp.ca_file), before any AUTH or MAIL', async () => {
    await withServer({}, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server, { policy: { ca_file: null } })));
      expect(error.code).toBe('SMTP_TLS_FAILED');
      expect(error.retryable).toBe(false);
      expect(server.logins).toEqual([]);
      expect(server.failedLogins).toBe(0);
      expect(server.transactions).toBe(0);
    });
  });

  it('refuses a trusted certificate issued for another name', async () => {
    await withServer({}, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server, { host: 'other.sendgate.test' })));
      expect(error.code).toBe('SMTP_TLS_FAILED');
      expect(error.message).toMatch(/ALTNAME|other\.sendgate\.test/);
      expect(server.transactions).toBe(0);
    });
  });

  it('refuses an untrusted certificate on implicit TLS too', async () => {
    await withServer({ tls: 'implicit' }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server, { destination: `smtps://${SMTP_TEST_HOST}:${server.port}`, policy: { ca_file: null } })));
      expect(error.code).toBe('SMTP_TLS_FAILED');
      expect(error.retryable).toBe(false);
      expect(server.transactions).toBe(0);
    });
  });

  it('never falls back to plaintext when the server offers no STARTTLS: no credentials, no message', async () => {
    await withServer({ tls: 'plaintext' }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_TLS_FAILED');
      expect(error.retryable).toBe(false);
      expect(server.logins).toEqual([]);
      expect(server.failedLogins).toBe(0);
      expect(server.transactions).toBe(0);
    });
  });
});

describe('deliverSmtp: failures', () => {
  it('connection refused: SMTP_CONNECT_FAILED, retryable', async () => {
    const server = await startSmtpServer({ pki });
    const port = server.port;
    await server.stop();
    const error = await deliveryError(deliverSmtp(attempt({ port })));
    expect(error.code).toBe('SMTP_CONNECT_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('no greeting in time: SMTP_TIMEOUT, retryable, within the timeout', async () => {
    await withServer({ behaviour: { hang: 'greeting' } }, async (server) => {
      const started = Date.now();
      const error = await deliveryError(deliverSmtp(attempt(server, { timeoutMs: 600 })));
      expect(error.code).toBe('SMTP_TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(server.transactions).toBe(0);
    });
  });

  it('no answer to the message: SMTP_TIMEOUT, retryable', async () => {
    await withServer({ behaviour: { hang: 'data' } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server, { timeoutMs: 1_000 })));
      expect(error.code).toBe('SMTP_TIMEOUT');
      expect(error.retryable).toBe(true);
    });
  });

  it('recipient rejected with 550: SMTP_RECIPIENT_REJECTED, not retryable, nothing delivered', async () => {
    await withServer({ behaviour: { rejectRecipients: new Set(['alice@example.com']) } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_RECIPIENT_REJECTED');
      expect(error.retryable).toBe(false);
      expect(error.responseCode).toBe(550);
      expect(error.message).toContain('alice@example.com');
      expect(error.message).toContain('550');
      expect(server.messages).toHaveLength(0);
      expect(server.transactions).toBe(1);
    });
  });

  it('one recipient of several rejected: the message goes to nobody', async () => {
    await withServer({ behaviour: { rejectRecipients: new Set(['bob@example.com']) } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server, { message: mail({ to: ['alice@example.com', 'bob@example.com'] }) })));
      expect(error.code).toBe('SMTP_RECIPIENT_REJECTED');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('bob@example.com');
      expect(error.message).toContain('sent to nobody');
      expect(server.rcptAttempts.sort()).toEqual(['alice@example.com', 'bob@example.com']);
      expect(server.messages).toHaveLength(0);
    });
  });

  it('one recipient refused for good (550), another deferred (451): not retryable', async () => {
    const behaviour = { rejectRecipients: new Set(['bob@example.com']), deferRecipients: new Set(['alice@example.com']) };
    await withServer({ behaviour }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server, { message: mail({ to: ['alice@example.com', 'bob@example.com'] }) })));
      expect(error.code).toBe('SMTP_RECIPIENT_REJECTED');
      expect(error.retryable).toBe(false);
      expect(error.responseCode).toBe(550);
      expect(server.messages).toHaveLength(0);
    });
  });

  it('never connects to anything but a vetted IP literal', async () => {
    const error = await deliveryError(deliverSmtp(attempt({ port: 1 }, { addresses: ['mail.sendgate.test'] })));
    expect(error.code).toBe('SMTP_CONNECT_FAILED');
    expect(error.retryable).toBe(false);
  });

  it('recipient deferred with 451: retryable', async () => {
    await withServer({ behaviour: { deferRecipients: new Set(['alice@example.com']) } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_RECIPIENT_REJECTED');
      expect(error.retryable).toBe(true);
      expect(error.responseCode).toBe(451);
    });
  });

  it('authentication failure: SMTP_AUTH_FAILED, not retryable, no credential in the error', async () => {
    await withServer({ behaviour: { failAuth: true } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_AUTH_FAILED');
      expect(error.retryable).toBe(false);
      expect(error.responseCode).toBe(535);
      expect(server.failedLogins).toBe(1);
      expect(server.transactions).toBe(0);
      const everything = `${error.message} ${String(error.stack)} ${JSON.stringify(error)} ${String((error as { cause?: unknown }).cause ?? '')}`;
      for (const secret of [SMTP_TEST_PASSWORD, Buffer.from(SMTP_TEST_PASSWORD).toString('base64'), Buffer.from(`\0${SMTP_TEST_USER}\0${SMTP_TEST_PASSWORD}`).toString('base64')]) {
        expect(everything).not.toContain(secret);
      }
    });
  });

  it('credentials configured but the server offers no AUTH: SMTP_AUTH_FAILED, nothing sent unauthenticated', async () => {
    await withServer({ noAuth: true }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_AUTH_FAILED');
      expect(error.retryable).toBe(false);
      expect(server.transactions).toBe(0);
    });
  });

  it('message refused with 554 after the body: SMTP_REJECTED, not retryable', async () => {
    await withServer({ behaviour: { dataReply: { code: 554, text: '5.7.1 Message rejected as spam' } } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_REJECTED');
      expect(error.retryable).toBe(false);
      expect(error.responseCode).toBe(554);
      expect(error.message).toContain('spam');
    });
  });

  it('message deferred with 452 after the body: SMTP_REJECTED, retryable', async () => {
    await withServer({ behaviour: { dataReply: { code: 452, text: '4.3.1 Insufficient system storage' } } }, async (server) => {
      const error = await deliveryError(deliverSmtp(attempt(server)));
      expect(error.code).toBe('SMTP_REJECTED');
      expect(error.retryable).toBe(true);
      expect(error.responseCode).toBe(452);
    });
  });
});
