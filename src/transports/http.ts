/**
 * HTTP delivery with undici 7. Every connection is pinned to the addresses the network guard
 * vetted; TLS still verifies the real host name. Redirects are followed by hand, a bounded number
 * of times, and every hop goes through the same guards as the first request before it is touched.
 */
import type { Agent as UndiciAgent, Dispatcher } from 'undici';
// undici's own modules rather than its index, which also loads fetch, WebSocket, caches and mocks
// (see undici-internals.d.ts): the same classes, a fraction of the start-up time.
import Agent from 'undici/lib/dispatcher/agent.js';
import dispatchRequest from 'undici/lib/api/api-request.js';
import undiciErrors from 'undici/lib/core/errors.js';
import { setFlagsFromString } from 'node:v8';
import { DeliveryError } from '../errors.ts';
import type { Endpoint } from '../guards/types.ts';
import type { HttpMessage } from '../message/types.ts';
import { pinnedLookup } from '../network/pinned-lookup.ts';
import type { DeliveryAttempt, DeliveryConfirmation, Transport } from './types.ts';

// undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it at once with its baseline
// compiler (Liftoff) and then again, in the background, with the optimising one; a process that
// sends one request and exits then waits ~80 ms at exit for that second compile it never uses.
// Baseline code parses one small response just as well. (Process-wide, wasm-only V8 settings.)
setFlagsFromString('--no-wasm-tier-up');
setFlagsFromString('--no-wasm-dynamic-tiering');

const USER_AGENT = 'sendgate/0.1 (+https://github.com/sendgate)';
const MAX_EVIDENCE_BYTES = 512;
const SENSITIVE_ON_CROSS_ORIGIN = new Set(['authorization', 'cookie', 'proxy-authorization']);

function agentFor(endpoint: Endpoint, timeoutMs: number): UndiciAgent {
  return new Agent({
    connect: { lookup: pinnedLookup(endpoint.host, endpoint.addresses), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // One request per invocation: no pooled socket may outlive the check that vetted it.
    pipelining: 0,
    keepAliveTimeout: 1,
    maxRedirections: 0,
  } as UndiciAgent.Options);
}

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Worth another attempt: request timeout, too early, too many requests, and every server error. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/** Drop a body we do not read. Destroying an unfinished undici body emits 'error': never let that crash the process. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * The start of the response body, as evidence. The status line already arrived, so a body that
 * breaks off or stalls (bodyTimeout) does not turn the answer into a failure: it is noted instead.
 */
async function readEvidence(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let broken = '';
  body.on('error', () => {});
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      if (size < MAX_EVIDENCE_BYTES) chunks.push(buffer.subarray(0, MAX_EVIDENCE_BYTES - size));
      size += buffer.length;
      if (size >= 64 * 1024) break; // enough: the rest is not evidence
    }
  } catch (error) {
    broken = ` (body incomplete: ${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`;
  }
  body.destroy();
  const text = Buffer.concat(chunks).toString('utf8').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return `${size > MAX_EVIDENCE_BYTES ? `${text}… (${size}+ bytes)` : text}${broken}`;
}

function connectError(error: unknown, url: URL): DeliveryError {
  const cause = error as NodeJS.ErrnoException & { code?: string };
  const timeout = error instanceof undiciErrors.ConnectTimeoutError || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || cause?.name === 'TimeoutError' || cause?.name === 'AbortError';
  if (timeout) return new DeliveryError('HTTP_TIMEOUT', `${url.host} did not answer in time`, { retryable: true }, { cause: error });
  const code = cause?.code ?? (cause?.cause as NodeJS.ErrnoException | undefined)?.code;
  // OpenSSL verification codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE, DEPTH_ZERO_SELF_SIGNED_CERT, ...) and Node's ERR_TLS_*.
  if (typeof code === 'string' && /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY|UNABLE_TO_GET|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|CHAIN_TOO_LONG/.test(code)) {
    return new DeliveryError('HTTP_TLS_FAILED', `TLS with ${url.host} failed (${code}): the certificate is not trusted for this name`, { retryable: false }, { cause: error });
  }
  return new DeliveryError('HTTP_CONNECT_FAILED', `cannot connect to ${url.host} (${code ?? cause?.message ?? 'unknown error'})`, { retryable: true }, { cause: error });
}

export const deliverHttp: Transport<HttpMessage> = async (attempt: DeliveryAttempt<HttpMessage>): Promise<DeliveryConfirmation> => {
  const { message, timeoutMs } = attempt;
  const maxRedirects = attempt.policy.http.max_redirects;
  let url = attempt.target.url!;
  let endpoint = attempt.endpoint;
  let method = message.method;
  let body: string | null = method === 'GET' || method === 'DELETE' ? null : message.body;
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    'idempotency-key': attempt.idempotencyKey,
    ...Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name.toLowerCase(), value])),
  };
  if (body !== null) headers['content-type'] = message.contentType;
  const hops: string[] = [];
  const signal = AbortSignal.timeout(timeoutMs);

  for (let hop = 0; ; hop += 1) {
    const agent = agentFor(endpoint, timeoutMs);
    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatchRequest.call(agent, { origin: url.origin, path: `${url.pathname}${url.search}`, method: method as Dispatcher.HttpMethod, headers, body, signal });
      } catch (error) {
        throw connectError(error, url);
      }
      const status = response.statusCode;
      if (status >= 300 && status < 400 && response.headers.location) {
        discard(response.body);
        if (hop >= maxRedirects) {
          throw new DeliveryError('HTTP_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects (http.max_redirects); last hop ${url.href}`, { retryable: false, responseCode: status });
        }
        const location = String(response.headers.location);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new DeliveryError('HTTP_BAD_REDIRECT', `${url.host} redirected to an invalid location`, { retryable: false, responseCode: status });
        }
        if (!attempt.recheck) throw new DeliveryError('HTTP_REDIRECT_BLOCKED', 'redirects cannot be re-checked here, so none is followed', { retryable: false, responseCode: status });
        const verdict = await attempt.recheck(next.href);
        if (!verdict.ok) {
          throw new DeliveryError('HTTP_REDIRECT_BLOCKED', `${url.host} redirected to ${next.host}, which is blocked: ${verdict.code}: ${verdict.reason}`, {
            retryable: false,
            responseCode: status,
            blockedBy: { code: verdict.code, reason: `redirect hop to ${next.host}: ${verdict.reason}` },
          });
        }
        if (next.origin !== url.origin) for (const name of Object.keys(headers)) if (SENSITIVE_ON_CROSS_ORIGIN.has(name)) delete headers[name];
        // Like fetch: 303 (and 301/302 after POST) turn into a GET without a body; 307/308 keep both.
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = null;
          delete headers['content-type'];
        }
        hops.push(`${status} -> ${verdict.target.display}`);
        url = verdict.target.url!;
        endpoint = verdict.endpoint;
        continue;
      }
      const evidence = await readEvidence(response.body);
      if (status >= 200 && status < 300) {
        return {
          status: status === 202 ? 'queued' : 'sent',
          responseCode: status,
          confirmation: evidence ? `HTTP ${status}: ${evidence}` : `HTTP ${status}`,
          evidence: [`http:${status}`, `url:${url.href}`, ...hops.map((h) => `redirect:${h}`)],
        };
      }
      const retryable = retryableStatus(status);
      const retryAfterMs = retryable ? parseRetryAfter(response.headers['retry-after']) : undefined;
      throw new DeliveryError('HTTP_STATUS', `${url.host} answered HTTP ${status}${evidence ? `: ${evidence.slice(0, 200)}` : ''}`, {
        retryable,
        responseCode: status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    } finally {
      agent.close().catch(() => {});
    }
  }
};
