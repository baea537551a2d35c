/**
 * HTTP delivery with undici 7. Every connection is pinned to the addresses the network guard
 * vetted; TLS still verifies the real host name. Redirects are followed by hand, a bounded number
 * of times, and every hop goes through the same guards as the first request before it is touched.
 */
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import { DeliveryError } from '../errors.ts';
import type { Endpoint } from '../guards/types.ts';
import type { HttpMessage } from '../message/types.ts';
import { pinnedLookup } from '../network/pinned-lookup.ts';
import type { DeliveryAttempt, DeliveryConfirmation, Transport } from './types.ts';

const USER_AGENT = 'sendgate/0.1 (+https://github.com/sendgate)';
const MAX_EVIDENCE_BYTES = 512;
const SENSITIVE_ON_CROSS_ORIGIN = new Set(['authorization', 'cookie', 'proxy-authorization']);

function agentFor(endpoint: Endpoint, timeoutMs: number): Agent {
  return new Agent({
    connect: { lookup: pinnedLookup(endpoint.host, endpoint.addresses), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // One request per invocation: no pooled socket may outlive the check that vetted it.
    pipelining: 0,
    keepAliveTimeout: 1,
    maxRedirections: 0,
  } as Agent.Options);
}

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

async function readEvidence(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (size < MAX_EVIDENCE_BYTES) chunks.push(buffer.subarray(0, MAX_EVIDENCE_BYTES - size));
    size += buffer.length;
    if (size >= 64 * 1024) break; // enough: the rest is not evidence
  }
  body.destroy();
  const text = Buffer.concat(chunks).toString('utf8').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return size > MAX_EVIDENCE_BYTES ? `${text}… (${size}+ bytes)` : text;
}

function connectError(error: unknown, url: URL): DeliveryError {
  const cause = error as NodeJS.ErrnoException & { code?: string };
  const timeout = error instanceof undiciErrors.ConnectTimeoutError || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || cause?.name === 'TimeoutError' || cause?.name === 'AbortError';
  if (timeout) return new DeliveryError('HTTP_TIMEOUT', `${url.host} did not answer in time`, { retryable: true }, { cause: error });
  const code = cause?.code ?? (cause?.cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /CERT|SELF_SIGNED|TLS|SSL|ERR_TLS/.test(code)) {
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
        response = await request(url, { method: method as Dispatcher.HttpMethod, headers, body, dispatcher: agent, signal });
      } catch (error) {
        throw connectError(error, url);
      }
      const status = response.statusCode;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.body.destroy();
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
          throw new DeliveryError('HTTP_REDIRECT_BLOCKED', `${url.host} redirected to ${next.host}, which is blocked: ${verdict.code}: ${verdict.reason}`, { retryable: false, responseCode: status });
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
      const retryable = RETRYABLE_STATUS.has(status);
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
