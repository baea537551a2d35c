/**
 * Pinning: the lookup handed to undici answers only the vetted addresses for only the checked host,
 * and undici really uses it — a name with no DNS at all reaches the server on the vetted 127.0.0.1,
 * with its own Host header, and a lookup that would answer 10.0.0.1 the second time is never asked
 * again. Plus the HTTP transport on its own (redirect handling, header hygiene across origins).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { policySchema } from '../../src/config/schema.ts';
import { DeliveryError } from '../../src/errors.ts';
import { parseMessage } from '../../src/message/parse.ts';
import type { HttpMessage } from '../../src/message/types.ts';
import { pinnedLookup } from '../../src/network/pinned-lookup.ts';
import { executeSend } from '../../src/pipeline/send.ts';
import { StateStore } from '../../src/state/store.ts';
import { parseDestination } from '../../src/target/parse.ts';
import { deliverHttp } from '../../src/transports/http.ts';
import type { DeliveryAttempt, Transport } from '../../src/transports/types.ts';
import { startHttpServer, type TestHttpServer } from '../e2e/support/http-server.ts';

let servers: TestHttpServer[] = [];
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
async function server() {
  const started = await startHttpServer();
  servers.push(started);
  return started;
}

function lookupOnce(lookup: ReturnType<typeof pinnedLookup>, host: string, options: object): Promise<{ error: NodeJS.ErrnoException | null; args: unknown[] }> {
  return new Promise((resolve) => {
    (lookup as unknown as (h: string, o: object, cb: (...args: unknown[]) => void) => void)(host, options, (error, ...args) => resolve({ error: error as NodeJS.ErrnoException | null, args }));
  });
}

describe('pinnedLookup', () => {
  const lookup = pinnedLookup('api.test.example', ['127.0.0.1', '::1']);

  it('answers only the vetted addresses, honouring family and all', async () => {
    expect(await lookupOnce(lookup, 'api.test.example', {})).toEqual({ error: null, args: ['127.0.0.1', 4] });
    expect(await lookupOnce(lookup, 'api.test.example', { all: true })).toEqual({ error: null, args: [[{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]] });
    expect(await lookupOnce(lookup, 'api.test.example', { family: 6 })).toEqual({ error: null, args: ['::1', 6] });
    expect(await lookupOnce(lookup, 'api.test.example', { family: 'IPv6', all: true })).toEqual({ error: null, args: [[{ address: '::1', family: 6 }]] });
  });

  it('normalises case and a trailing dot of the host it was made for', async () => {
    expect((await lookupOnce(lookup, 'API.Test.Example.', {})).args[0]).toBe('127.0.0.1');
  });

  it('refuses any other host, and a family it has no vetted address for', async () => {
    const other = await lookupOnce(lookup, 'evil.example.com', {});
    expect(other.error?.code).toBe('ENOTFOUND');
    expect(other.error?.message).toContain('only api.test.example was checked');
    const v4only = pinnedLookup('api.test.example', ['127.0.0.1']);
    expect((await lookupOnce(v4only, 'api.test.example', { family: 6 })).error?.code).toBe('ENOTFOUND');
  });
});

function attemptFor(url: string, addresses: string[], message: HttpMessage, extra: Partial<DeliveryAttempt<HttpMessage>> = {}): DeliveryAttempt<HttpMessage> {
  const parsed = parseDestination(url, 'http');
  if (!parsed.ok) throw new Error(parsed.reason);
  const target = parsed.target;
  return {
    target,
    endpoint: { host: target.host, hostKind: target.hostKind, port: target.port!, addresses },
    message,
    policy: policySchema.parse({ version: 1 }),
    timeoutMs: 2_000,
    idempotencyKey: 'sendgate-test-key',
    env: {},
    ...extra,
  };
}

const JSON_MESSAGE = parseMessage('{"text":"hi"}', 'http') as HttpMessage;

describe('undici really connects through the pinned lookup', () => {
  it('a name with no DNS reaches the vetted 127.0.0.1 with its own Host header', async () => {
    const http = await server();
    const confirmation = await deliverHttp(attemptFor(`http://api.test.example:${http.port}/hook`, ['127.0.0.1'], JSON_MESSAGE));
    expect(confirmation).toMatchObject({ status: 'sent', responseCode: 200 });
    expect(http.requests[0]).toMatchObject({ host: `api.test.example:${http.port}`, path: '/hook', idempotencyKey: 'sendgate-test-key' });
  });

  it('the whole pipeline: the guard resolves once (127.0.0.1), the rebinding answer (10.0.0.1) is never used', async () => {
    const http = await server();
    const dir = mkdtempSync(join(tmpdir(), 'sendgate-pin-'));
    dirs.push(dir);
    const lookups: string[] = [];
    const lookup = async (host: string) => {
      lookups.push(host);
      return lookups.length === 1 ? ['127.0.0.1'] : ['10.0.0.1'];
    };
    const guarded: Transport<HttpMessage> = (attempt) => {
      // In-process guard for the safety rule: this transport is never called for a non-loopback address.
      if (attempt.endpoint.addresses.some((address) => address !== '127.0.0.1')) throw new Error(`transport called for ${attempt.endpoint.addresses}`);
      return deliverHttp(attempt);
    };
    const result = await executeSend(
      { skill: 'send', protocol: 'http', destination: `http://api.test.example:${http.port}/hook`, message: '{"text":"hi"}', constraints: {}, dryRun: false, retryPolicy: { max_attempts: 1 } },
      {
        policy: policySchema.parse({ version: 1, approval: { required: false }, network: { allow_private: ['127.0.0.1/32'] } }),
        store: new StateStore(join(dir, 'state')),
        auditPath: join(dir, 'audit.jsonl'),
        deps: { lookup, overrides: new Map(), now: () => new Date() },
        transports: { http: guarded },
        triggeredBy: 'test',
        approveCommand: (id) => id,
        env: {},
      },
    );
    expect(result.output.delivery).toMatchObject({ status: 'sent', response_code: 200 });
    expect(lookups).toEqual(['api.test.example']);
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]!.host).toBe(`api.test.example:${http.port}`);
  });

  it('a vetted address that is not the server\'s is where the connection goes (nothing falls back to DNS)', async () => {
    const http = await server();
    // 127.0.0.2 is loopback too, but the server listens on 127.0.0.1 only: refused, not re-resolved.
    await expect(deliverHttp(attemptFor(`http://localhost:${http.port}/hook`, ['127.0.0.2'], JSON_MESSAGE))).rejects.toMatchObject({ code: 'HTTP_CONNECT_FAILED', retryable: true });
    expect(http.count()).toBe(0);
  });
});

describe('deliverHttp redirects', () => {
  it('without a recheck function no redirect is followed', async () => {
    const http = await server();
    http.script('/a', { redirect: '/b' });
    await expect(deliverHttp(attemptFor(http.url('/a'), ['127.0.0.1'], JSON_MESSAGE))).rejects.toMatchObject({ code: 'HTTP_REDIRECT_BLOCKED', retryable: false, responseCode: 302 });
    expect(http.count('/b')).toBe(0);
  });

  it('a hop the recheck refuses is not touched; an invalid Location is an error', async () => {
    const http = await server();
    http.script('/a', { redirect: 'http://169.254.169.254/' });
    http.script('/bad', { redirect: 'http://[::1' });
    const recheck = async () => ({ ok: false as const, code: 'NETWORK_INTERNAL', reason: 'internal' });
    await expect(deliverHttp(attemptFor(http.url('/a'), ['127.0.0.1'], JSON_MESSAGE, { recheck }))).rejects.toMatchObject({ code: 'HTTP_REDIRECT_BLOCKED', message: expect.stringContaining('NETWORK_INTERNAL') });
    await expect(deliverHttp(attemptFor(http.url('/bad'), ['127.0.0.1'], JSON_MESSAGE, { recheck }))).rejects.toMatchObject({ code: 'HTTP_BAD_REDIRECT' });
  });

  it('303 turns into a GET without a body; credentials are dropped on a cross-origin hop, kept on the same origin', async () => {
    const a = await server();
    const b = await server();
    a.script('/see-other', { status: 303, redirect: '/result' });
    a.script('/cross', { status: 307, redirect: b.url('/landing') });
    a.script('/same', { status: 307, redirect: '/landing' });
    const recheck = async (destination: string) => {
      const parsed = parseDestination(destination, 'http');
      if (!parsed.ok) return { ok: false as const, code: parsed.code, reason: parsed.reason };
      const t = parsed.target;
      return { ok: true as const, target: t, endpoint: { host: t.host, hostKind: t.hostKind, port: t.port!, addresses: ['127.0.0.1'] } };
    };
    const withAuth = parseMessage(JSON.stringify({ headers: { Authorization: 'Bearer abc', 'X-Keep': '1' }, json: { a: 1 } }), 'http') as HttpMessage;

    const seeOther = await deliverHttp(attemptFor(a.url('/see-other'), ['127.0.0.1'], withAuth, { recheck }));
    expect(seeOther.evidence).toContain(`redirect:303 -> ${a.url('/result')}`);
    expect(a.requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual(['POST /see-other {"a":1}', 'GET /result ']);

    await deliverHttp(attemptFor(a.url('/cross'), ['127.0.0.1'], withAuth, { recheck }));
    const landed = b.requests[0]!;
    expect(landed.method).toBe('POST');
    expect(landed.headers.authorization).toBeUndefined();
    expect(landed.headers['x-keep']).toBe('1');
    expect(landed.idempotencyKey).toBe('sendgate-test-key');

    await deliverHttp(attemptFor(a.url('/same'), ['127.0.0.1'], withAuth, { recheck }));
    expect(a.requests.at(-1)!.headers.authorization).toBe('Bearer abc');
  });

  it('status codes map to retryable or not', async () => {
    const http = await server();
    const cases: [number, boolean][] = [[408, true], [425, true], [429, true], [500, true], [502, true], [503, true], [504, true], [400, false], [401, false], [404, false], [409, false], [422, false]];
    for (const [status, retryable] of cases) {
      http.script(`/s${status}`, { status, body: `status ${status}` });
      const error = await deliverHttp(attemptFor(http.url(`/s${status}`), ['127.0.0.1'], JSON_MESSAGE)).catch((e: DeliveryError) => e);
      expect(error, String(status)).toMatchObject({ code: 'HTTP_STATUS', retryable, responseCode: status });
    }
  });
});
