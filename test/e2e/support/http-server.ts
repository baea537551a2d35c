/**
 * A recording HTTP(S) server for tests, on 127.0.0.1 and a port chosen at run time.
 *
 * Every request is recorded (method, path, headers, body, Idempotency-Key, Host, TLS server name).
 * Each path answers from a script: one step, or a sequence of steps taken in order (the last one
 * repeats). A step can answer a status with headers and a body, redirect, send Retry-After, wait
 * before answering, or hang (never answer, or answer the headers and never finish the body).
 * Unscripted paths answer 200 {"ok":true}.
 *
 *   const server = await startHttpServer();
 *   server.script('/hook', [{ status: 503, retryAfter: 0 }, { status: 200, body: 'ok' }]);
 *   ... server.requests, server.count('/hook'), server.idempotencyKeys('/hook') ...
 *   await server.stop();
 *
 * HTTPS: `createHttpsPki(['api.sendgate.test'])` makes a throwaway CA (openssl) and a certificate
 * for those names; `startHttpServer({ tls: pki.certificateFor(...) })`. Pass the CA to a child
 * process with NODE_EXTRA_CA_CERTS=pki.caFile and the name with `--resolve name=127.0.0.1`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createTestCa, issueServerCertificate } from './cli.ts';

export interface Step {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Default: `{"ok":true}` for 2xx, empty otherwise. */
  body?: string;
  /** Answer 302 (or `status` when it is a 3xx) with this Location. */
  redirect?: string;
  /** Sets the Retry-After header (seconds, or an HTTP date). */
  retryAfter?: number | string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** 'response': read the request, never answer. 'body': send the headers, never finish the body. */
  hang?: 'response' | 'body';
}

export interface RecordedRequest {
  index: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  idempotencyKey: string | null;
  host: string | null;
  /** The TLS server name (SNI) the client asked for; null over plain HTTP. */
  servername: string | null;
  at: number;
}

export interface TestHttpServer {
  host: '127.0.0.1';
  port: number;
  /** http(s)://127.0.0.1:port */
  origin: string;
  url(path?: string): string;
  requests: RecordedRequest[];
  script(path: string, steps: Step | Step[]): void;
  count(path?: string): number;
  idempotencyKeys(path?: string): string[];
  /** Resolves once `n` requests (to `path`, if given) have arrived. */
  waitForRequests(n: number, path?: string, timeoutMs?: number): Promise<RecordedRequest[]>;
  stop(): Promise<void>;
}

export interface HttpServerOptions {
  tls?: { key: string; cert: string };
  /** Listen on this port (e.g. to bring a server back where a failed send pointed). */
  port?: number;
}

export async function startHttpServer(options: HttpServerOptions = {}): Promise<TestHttpServer> {
  const requests: RecordedRequest[] = [];
  const scripts = new Map<string, { steps: Step[]; next: number }>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const key = request.headers['idempotency-key'];
      const recorded: RecordedRequest = {
        index: requests.length,
        method: request.method ?? '',
        path,
        headers: { ...request.headers },
        body: Buffer.concat(chunks).toString('utf8'),
        idempotencyKey: typeof key === 'string' ? key : null,
        host: request.headers.host ?? null,
        servername: ((request.socket as TLSSocket).servername as string | false | undefined) || null,
        at: Date.now(),
      };
      requests.push(recorded);
      for (const wake of [...waiters]) wake();
      void answer(response, stepFor(path));
    });
  };

  const stepFor = (path: string): Step => {
    const bare = path.split('?')[0]!;
    const entry = scripts.get(path) ?? scripts.get(bare);
    if (!entry) return {};
    const step = entry.steps[Math.min(entry.next, entry.steps.length - 1)]!;
    entry.next += 1;
    return step;
  };

  const answer = async (response: ServerResponse, step: Step) => {
    if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    if (step.hang === 'response') return; // the socket stays open until the client gives up or stop()
    const status = step.redirect ? (step.status && step.status >= 300 && step.status < 400 ? step.status : 302) : (step.status ?? 200);
    const headers: Record<string, string> = { ...step.headers };
    if (step.redirect) headers.location = step.redirect;
    if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
    const body = step.body ?? (status >= 200 && status < 300 ? '{"ok":true}' : '');
    if (!headers['content-type'] && body) headers['content-type'] = body.startsWith('{') ? 'application/json' : 'text/plain';
    if (step.hang === 'body') {
      response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body) + 1000) });
      response.write(body);
      return;
    }
    response.writeHead(status, headers);
    response.end(body);
  };

  const server: Server = options.tls ? createHttps({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttp(handler);
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A TLS handshake the client aborts (an untrusted certificate) must not crash the test run.
  server.on('tlsClientError', () => {});
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const matching = (path?: string) => requests.filter((item) => path === undefined || item.path === path || item.path.split('?')[0] === path);

  return {
    host: '127.0.0.1',
    port,
    origin,
    url: (path = '/') => `${origin}${path}`,
    requests,
    script(path, steps) {
      scripts.set(path, { steps: Array.isArray(steps) ? steps : [steps], next: 0 });
    },
    count: (path) => matching(path).length,
    idempotencyKeys: (path) => matching(path).map((item) => item.idempotencyKey ?? ''),
    waitForRequests(n, path, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = matching(path);
          if (found.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waited ${timeoutMs} ms for ${n} request(s)${path ? ` to ${path}` : ''}; got ${matching(path).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpsPki {
  dir: string;
  /** The CA that signed every certificate: what NODE_EXTRA_CA_CERTS points at. */
  caFile: string;
  caPem: string;
  /** A server certificate (signed by the CA) valid for exactly these DNS names. */
  certificateFor(names: string[]): Promise<{ key: string; cert: string }>;
  cleanup(): Promise<void>;
}

/** A throwaway CA made with openssl at run time (EC P-256, valid two days). */
export async function createHttpsPki(): Promise<HttpsPki> {
  const dir = await mkdtemp(join(tmpdir(), 'sendgate-http-pki-'));
  const ca = await createTestCa(dir, 'sendgate http test CA');
  let serial = 0;
  return {
    dir,
    caFile: ca.caFile,
    caPem: ca.caPem,
    async certificateFor(names) {
      serial += 1;
      const { keyFile, certFile } = await issueServerCertificate(ca, join(dir, `server${serial}`), { dns: names });
      const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
      return { key, cert };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
