/**
 * Retries: bounded attempts, exponential backoff with jitter inside [ceiling/2, ceiling] capped at
 * max_delay, only retryable failures, Retry-After honoured (or the attempts end when it asks for
 * more than we allow), configuration errors surface as themselves, never an unbounded loop.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetries, type RetrySettings } from '../../src/pipeline/retry.ts';
import { ConfigError, DeliveryError } from '../../src/errors.ts';
import { parseRetryAfter } from '../../src/transports/http.ts';

const settings: RetrySettings = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
const retryable = (extra: { retryAfterMs?: number } = {}) => new DeliveryError('HTTP_STATUS', 'busy', { retryable: true, responseCode: 503, ...extra });

describe('backoffDelay', () => {
  it('grows exponentially, with jitter between half the ceiling and the ceiling, capped at maxDelayMs', () => {
    const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    ceilings.forEach((ceiling, index) => {
      const attempt = index + 1;
      expect(backoffDelay(attempt, settings, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, settings, () => 0.999_999)).toBe(ceiling);
      for (let i = 0; i < 50; i += 1) {
        const delay = backoffDelay(attempt, settings);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    });
  });

  it('never exceeds maxDelayMs however many attempts (no overflow to Infinity)', () => {
    expect(backoffDelay(2_000, settings, () => 1)).toBe(1_000);
  });
});

describe('withRetries', () => {
  it('stops at maxAttempts and reports the attempts', async () => {
    const waits: number[] = [];
    let calls = 0;
    const outcome = await withRetries(settings, async () => {
      calls += 1;
      throw retryable();
    }, async (ms) => waits.push(ms));
    expect(calls).toBe(5);
    expect(outcome.attempts).toBe(5);
    expect(outcome.error?.code).toBe('HTTP_STATUS');
    expect(waits).toHaveLength(4); // no wait after the last attempt
    waits.forEach((ms, index) => expect(ms).toBeLessThanOrEqual(Math.min(1_000, 100 * 2 ** index)));
  });

  it('returns the first success and its attempt number', async () => {
    let calls = 0;
    const outcome = await withRetries(settings, async (attempt) => {
      calls += 1;
      if (attempt < 3) throw retryable();
      return 'ok';
    }, async () => {});
    expect(outcome).toEqual({ value: 'ok', attempts: 3 });
    expect(calls).toBe(3);
  });

  it('does not retry a non-retryable failure, and wraps unknown errors as non-retryable DELIVERY_FAILED', async () => {
    let calls = 0;
    const outcome = await withRetries(settings, async () => {
      calls += 1;
      throw new DeliveryError('HTTP_STATUS', 'bad request', { retryable: false, responseCode: 400 });
    }, async () => {});
    expect(calls).toBe(1);
    expect(outcome.error?.responseCode).toBe(400);

    const unknown = await withRetries(settings, async () => {
      throw new TypeError('boom');
    }, async () => {});
    expect(unknown.attempts).toBe(1);
    expect(unknown.error).toMatchObject({ code: 'DELIVERY_FAILED', retryable: false, message: 'boom' });
  });

  it('honours Retry-After as the minimum wait', async () => {
    const waits: number[] = [];
    await withRetries({ ...settings, maxAttempts: 2 }, async (attempt) => {
      if (attempt === 1) throw retryable({ retryAfterMs: 700 });
      return 'ok';
    }, async (ms) => waits.push(ms));
    expect(waits).toEqual([700]);
  });

  it('a Retry-After longer than maxDelayMs ends the attempts at once', async () => {
    const waits: number[] = [];
    let calls = 0;
    const outcome = await withRetries(settings, async () => {
      calls += 1;
      throw retryable({ retryAfterMs: 60_000 });
    }, async (ms) => waits.push(ms));
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
    expect(outcome.error?.retryAfterMs).toBe(60_000);
  });

  it('a configuration error is not a delivery failure: it is thrown as itself', async () => {
    await expect(withRetries(settings, async () => {
      throw new ConfigError('no password');
    }, async () => {})).rejects.toBeInstanceOf(ConfigError);
  });

  it('maxAttempts 1 means one attempt, no wait', async () => {
    const waits: number[] = [];
    const outcome = await withRetries({ ...settings, maxAttempts: 1 }, async () => {
      throw retryable();
    }, async (ms) => waits.push(ms));
    expect(outcome.attempts).toBe(1);
    expect(waits).toEqual([]);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates; ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['5', '9'], now)).toBe(5_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0); // in the past: no wait
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
