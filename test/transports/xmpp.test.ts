/**
 * The XMPP transport and session in-process: against the real Prosody (test/e2e/support/prosody.ts)
 * for what arrives and how the session behaves (pinning, acks, receipts, clean close, UTF-8, roster),
 * and against a scripted fake server for what Prosody never does (no STARTTLS, a forged SCRAM
 * server signature, a stream error, a server that stops answering).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import xml from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policySchema } from '../../src/config/schema.ts';
import { DeliveryError } from '../../src/errors.ts';
import type { XmppMessage } from '../../src/message/types.ts';
import { parseDestination } from '../../src/target/parse.ts';
import type { DeliveryAttempt } from '../../src/transports/types.ts';
import { createXmppTransport, deliverXmpp, fetchRoster, messageId, XmppConnector } from '../../src/transports/xmpp.ts';
import { XmppSession } from '../../src/transports/xmpp-session.ts';
import { createPki, freePort, startProsody, type Pki, type ProsodyServer } from '../e2e/support/prosody.ts';
import { connectPeer, openTestSession, type Peer } from '../e2e/support/xmpp-peer.ts';

let server: ProsodyServer;
let bob: Peer;

beforeAll(async () => {
  server = await startProsody({ users: { agent: 'agent-pw', bob: 'bob-pw' }, logLevel: 'debug' });
  bob = await connectPeer(server, 'bob', 'bob-pw');
});
afterAll(async () => {
  await bob?.close();
  await server?.stop();
});

function attempt(to: string, body: string, options: { type?: 'chat' | 'groupchat'; xmpp?: Record<string, unknown>; addresses?: string[]; port?: number; env?: NodeJS.ProcessEnv } = {}): DeliveryAttempt<XmppMessage> {
  const parsed = parseDestination(to, 'xmpp');
  if (!parsed.ok) throw new Error(parsed.reason);
  const policy = policySchema.parse({
    version: 1,
    xmpp: { jid: `agent@${server.domain}`, password_env: 'PW', service: server.service, ca_file: server.caFile, receipt_timeout_ms: 2_000, ...options.xmpp },
  });
  return {
    target: parsed.target,
    endpoint: { host: '127.0.0.1', hostKind: 'ipv4', port: options.port ?? server.c2sPort, addresses: options.addresses ?? ['127.0.0.1'] },
    message: { protocol: 'xmpp', body, type: options.type ?? 'chat' },
    policy,
    timeoutMs: 5_000,
    idempotencyKey: `sendgate-cp_test${Math.random().toString(36).slice(2, 10)}`,
    env: options.env ?? { PW: 'agent-pw' },
  };
}

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2, 10)}`;

describe('deliverXmpp against Prosody', () => {
  it('delivers with the idempotency key as the stanza id, a receipt request and an origin-id', async () => {
    const body = unique('hello');
    const input = attempt(`xmpp:bob@${server.domain}`, body);
    const confirmation = await deliverXmpp(input);
    expect(confirmation.status).toBe('sent');
    const received = await bob.waitForMessage((message) => message.body === body);
    expect(received.id).toBe(messageId(input.idempotencyKey));
    expect(received.receiptRequested).toBe(true);
    expect(received.stanza.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id).toBe(received.id);
    expect(confirmation.evidence).toEqual(expect.arrayContaining([expect.stringMatching(/XEP-0198 ack h=\d+/), expect.stringMatching(/XEP-0184 receipt from bob@/)]));
  });

  it('keeps multi-byte text whole across TCP reads (a long message full of emoji and CJK)', async () => {
    const body = `${unique('utf8')} ${'👋🏽 你好 Grüße — '.repeat(2_000)}`;
    await deliverXmpp(attempt(`xmpp:bob@${server.domain}`, body, { xmpp: { max_body_bytes: 200_000 } }));
    expect((await bob.waitForMessage((message) => message.body?.startsWith(body.slice(0, 20)) ?? false)).body).toBe(body);
  });

  it('connects only to the vetted addresses, moving on from one that refuses', async () => {
    const body = unique('pinned');
    // 127.0.0.2 is loopback but Prosody listens on 127.0.0.1 only: refused, then the next address.
    const confirmation = await deliverXmpp(attempt(`xmpp:bob@${server.domain}`, body, { addresses: ['127.0.0.2', '127.0.0.1'] }));
    expect(confirmation.evidence.join('\n')).toMatch(/via 127\.0\.0\.1:/);
    await bob.waitForMessage((message) => message.body === body);
    await expect(deliverXmpp(attempt(`xmpp:bob@${server.domain}`, 'x', { addresses: [] }))).rejects.toMatchObject({ code: 'XMPP_CONNECT_FAILED' });
  });

  it('closes cleanly: the server receives </stream:stream> and the session is unbound', async () => {
    const before = (await server.log()).length;
    await deliverXmpp(attempt(`xmpp:bob@${server.domain}`, unique('close')));
    const log = (await server.log()).slice(before);
    expect(log).toMatch(/Received <\/stream:stream>/);
    expect(log).toMatch(/Unbinding resource for agent@sendgate\.test\/sendgate\./);
  });

  it('shares one session between the roster fetch and the delivery', async () => {
    const connector = new XmppConnector();
    const input = attempt(`xmpp:bob@${server.domain}`, unique('shared'));
    try {
      const session = await connector.session(input.endpoint, input.policy, input.env, 5_000);
      expect(Array.isArray(await fetchRoster(session))).toBe(true);
      await createXmppTransport(connector)(input);
      expect(connector.sessionsOpened).toBe(1);
    } finally {
      await connector.close();
    }
  });

  it('does not log in twice after a failed login (one connection per invocation)', async () => {
    const connector = new XmppConnector();
    const input = attempt(`xmpp:bob@${server.domain}`, 'x', { env: { PW: 'wrong' } });
    await expect(connector.session(input.endpoint, input.policy, input.env, 5_000)).rejects.toMatchObject({ code: 'XMPP_AUTH_FAILED', retryable: false });
    await expect(createXmppTransport(connector)(input)).rejects.toMatchObject({ code: 'XMPP_AUTH_FAILED' });
    expect(connector.sessionsOpened).toBe(1);
  });

  it('maps failures to codes, retryable only for connection problems', async () => {
    const refused = await deliverXmpp(attempt(`xmpp:bob@${server.domain}`, 'x', { port: await freePort() })).catch((error: DeliveryError) => error);
    expect(refused).toMatchObject({ code: 'XMPP_CONNECT_FAILED', retryable: true });
    const unknown = await deliverXmpp(attempt(`xmpp:nobody@${server.domain}`, 'x')).catch((error: DeliveryError) => error);
    expect(unknown).toMatchObject({ code: 'XMPP_STANZA_ERROR', retryable: false });
    expect((unknown as DeliveryError).message).toMatch(/service-unavailable/);
    const untrusted = await deliverXmpp(attempt(`xmpp:bob@${server.domain}`, 'x', { xmpp: { ca_file: null } })).catch((error: DeliveryError) => error);
    expect(untrusted).toMatchObject({ code: 'XMPP_TLS_UNTRUSTED', retryable: false });
    // A trusted CA, but the certificate does not name the account's domain.
    const wrongName = await deliverXmpp(attempt(`xmpp:bob@${server.domain}`, 'x', { xmpp: { jid: `agent@${server.uncoveredDomain}` } })).catch((error: DeliveryError) => error);
    expect(wrongName).toMatchObject({ code: 'XMPP_TLS_UNTRUSTED' });
    expect((wrongName as DeliveryError).message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    const hostUnknown = await XmppSession.open({ jid: 'agent@not-served.test', password: 'x', resource: 'r', addresses: ['127.0.0.1'], port: server.c2sPort, tls: 'starttls', ca: server.caPem, timeoutMs: 5_000 }).catch((error: DeliveryError) => error);
    expect(hostUnknown).toMatchObject({ code: 'XMPP_STREAM_ERROR' });
    expect((hostUnknown as DeliveryError).message).toMatch(/host-unknown/);
  });

  it('answers roster pushes and pings, and refuses other requests with service-unavailable', async () => {
    const session = await openTestSession(server, 'agent', 'agent-pw', 'iq-test');
    const other = await openTestSession(server, 'bob', 'bob-pw', 'iq-prober');
    try {
      const ping = await other.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), session.info.jid, 3_000);
      expect(ping.attrs.type).toBe('result');
      await expect(other.iq('get', xml('query', { xmlns: 'jabber:iq:version' }), session.info.jid, 3_000)).rejects.toThrow(/service-unavailable/);
    } finally {
      await session.close();
      await other.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A scripted fake server for hostile or broken behaviour.

interface FakeServer {
  port: number;
  received: string[];
  close(): Promise<void>;
}

type Script = (socket: { send(text: string): void; upgrade(): Promise<void>; until(pattern: RegExp): Promise<string>; destroy(): void }) => Promise<void>;

async function fakeServer(pki: Pki, script: Script): Promise<FakeServer> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((raw) => {
    sockets.add(raw);
    let current: Socket | TLSSocket = raw;
    let buffer = '';
    let waiting: { pattern: RegExp; resolve: (text: string) => void } | null = null;
    const check = () => {
      if (waiting && waiting.pattern.test(buffer)) {
        const { resolve } = waiting;
        waiting = null;
        const text = buffer;
        buffer = '';
        resolve(text);
      }
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      received.push(chunk.toString('utf8'));
      check();
    };
    raw.on('data', onData);
    raw.on('error', () => {});
    const api = {
      send: (text: string) => current.write(text),
      /** Everything received until it matches `pattern` (whitespace keepalives included). */
      until: (pattern: RegExp) => new Promise<string>((resolve) => {
        waiting = { pattern, resolve };
        check();
      }),
      upgrade: async () => {
        raw.removeListener('data', onData);
        buffer = '';
        const { readFileSync } = await import('node:fs');
        const secure = new TLSSocket(raw, { isServer: true, key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) });
        secure.on('data', onData);
        secure.on('error', () => {});
        current = secure;
        await new Promise<void>((resolve) => secure.once('secure', () => resolve()));
      },
      destroy: () => current.destroy(),
    };
    script(api).catch(() => current.destroy());
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
  const address = tcp.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    received,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      tcp.close(() => resolve());
    }),
  };
}

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='fake.test' id='s1' version='1.0'>`;
const STARTTLS_FEATURES = `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`;

/** The fake server's side of STARTTLS, up to the restarted stream (what every fake login starts with). */
async function negotiateTls(socket: { until(pattern: RegExp): Promise<string>; send(text: string): void; upgrade(): Promise<void> }): Promise<void> {
  await socket.until(/<stream:stream/);
  socket.send(HEADER + STARTTLS_FEATURES);
  await socket.until(/<starttls/);
  socket.send(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
  await socket.upgrade();
  await socket.until(/<stream:stream/);
}

describe('XmppSession against a hostile or broken server', () => {
  let pki: Pki;
  let dir: string;
  beforeAll(async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    dir = await mkdtemp(join(tmpdir(), 'sendgate-xmpp-fake-'));
    pki = await createPki(dir, ['fake.test']);
  });
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await rm(dir, { recursive: true, force: true });
  });
  const open = (port: number, timeoutMs = 3_000) => XmppSession.open({ jid: 'agent@fake.test', password: 'pencil', resource: 'r', addresses: ['127.0.0.1'], port, tls: 'starttls', ca: pki.caPem, timeoutMs });

  it('refuses a server that does not offer STARTTLS, before sending any credentials', async () => {
    const fake = await fakeServer(pki, async (socket) => {
      await socket.until(/<stream:stream/);
      socket.send(`${HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`);
      await socket.until(/<\/stream:stream>/);
    });
    try {
      await expect(open(fake.port)).rejects.toMatchObject({ code: 'XMPP_TLS_UNAVAILABLE' });
      expect(fake.received.join('')).not.toMatch(/<auth|pencil|cGVuY2ls/);
    } finally {
      await fake.close();
    }
  });

  it('refuses a server that cannot prove it knows the password (forged SCRAM server signature)', async () => {
    const fake = await fakeServer(pki, async (socket) => {
      await negotiateTls(socket);
      socket.send(`${HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`);
      const auth = await socket.until(/<\/auth>/);
      const first = Buffer.from(/<auth[^>]*>([^<]+)</.exec(auth)![1]!, 'base64').toString();
      const nonce = /r=([^,]+)/.exec(first)![1];
      socket.send(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`r=${nonce}server,s=QSXCR+Q6sek8bf92,i=4096`).toString('base64')}</challenge>`);
      await socket.until(/<\/response>/);
      socket.send(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=').toString('base64')}</success>`);
      await socket.until(/<\/stream:stream>/);
    });
    try {
      const error = await open(fake.port).catch((caught: DeliveryError) => caught);
      expect(error).toMatchObject({ code: 'XMPP_AUTH_FAILED' });
      expect((error as DeliveryError).message).toMatch(/signature is wrong/);
    } finally {
      await fake.close();
    }
  });

  it('logs in with PLAIN over the verified TLS stream when that is all the server offers, and loses no stanza that arrives with <enabled/>', async () => {
    let ackSeen = '';
    const fake = await fakeServer(pki, async (socket) => {
      await negotiateTls(socket);
      socket.send(`${HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`);
      const auth = await socket.until(/<\/auth>/);
      expect(Buffer.from(/<auth[^>]*>([^<]+)</.exec(auth)![1]!, 'base64').toString()).toBe('\u0000agent\u0000pencil');
      socket.send(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
      await socket.until(/<stream:stream/);
      socket.send(`${HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`);
      await socket.until(/<\/iq>/);
      socket.send(`<iq type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>agent@fake.test/r</jid></bind></iq>`);
      await socket.until(/<enable/);
      // One TCP write: the ack of enable, a message, and an ack request.
      socket.send(`<enabled xmlns='urn:xmpp:sm:3'/><message from='bob@fake.test/x' to='agent@fake.test/r' type='chat'><body>early</body></message><r xmlns='urn:xmpp:sm:3'/>`);
      ackSeen = await socket.until(/<a [^>]*h=/);
      await socket.until(/<\/stream:stream>/);
      socket.send('</stream:stream>');
    });
    try {
      const session = await open(fake.port);
      expect(session.info).toMatchObject({ mechanism: 'PLAIN', streamManagement: true, jid: 'agent@fake.test/r' });
      expect((await session.waitFor((stanza) => stanza.getChildText('body') === 'early', 2_000))?.attrs.from).toBe('bob@fake.test/x');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ackSeen).toMatch(/h="1"/);
      await session.close();
    } finally {
      await fake.close();
    }
  });

  it('reports a stream error with its condition', async () => {
    const fake = await fakeServer(pki, async (socket) => {
      await socket.until(/<stream:stream/);
      socket.send(`${HEADER}<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`);
    });
    try {
      const error = await open(fake.port).catch((caught: DeliveryError) => caught);
      expect(error).toMatchObject({ code: 'XMPP_STREAM_ERROR', retryable: false });
      expect((error as DeliveryError).message).toMatch(/policy-violation/);
    } finally {
      await fake.close();
    }
  });

  it('times out (retryable) when the server stops answering', async () => {
    const fake = await fakeServer(pki, async (socket) => {
      await socket.until(/<stream:stream/);
      socket.send(HEADER);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    });
    try {
      const started = Date.now();
      await expect(open(fake.port, 500)).rejects.toMatchObject({ code: 'XMPP_TIMEOUT', retryable: true });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await fake.close();
    }
  });
});
