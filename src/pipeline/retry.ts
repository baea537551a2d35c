/**
 * Bounded retries with exponential backoff and full jitter, only for retryable failures, honouring
 * Retry-After when the server asks for a wait we are willing to make. Never an unbounded loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliveryError, EXIT, isSendgateError } from '../errors.ts';

export interface RetrySettings {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryOutcome<T> {
  value?: T;
  error?: DeliveryError;
  attempts: number;
}

export function backoffDelay(attempt: number, settings: RetrySettings, random = Math.random): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export async function withRetries<T>(
  settings: RetrySettings,
  attemptOnce: (attempt: number) => Promise<T>,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<RetryOutcome<T>> {
  let lastError: DeliveryError | undefined;
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt += 1) {
    try {
      return { value: await attemptOnce(attempt), attempts: attempt };
    } catch (error) {
      // A configuration problem is not a delivery failure: it surfaces as itself (exit 78).
      if (isSendgateError(error) && error.exitCode === EXIT.config) throw error;
      lastError = error instanceof DeliveryError ? error : new DeliveryError('DELIVERY_FAILED', (error as Error)?.message ?? String(error), { retryable: false }, { cause: error });
      if (!lastError.retryable || attempt === settings.maxAttempts) return { error: lastError, attempts: attempt };
      let delay = backoffDelay(attempt, settings);
      if (lastError.retryAfterMs !== undefined) {
        // A server that asks for a longer wait than we allow gets no more attempts now.
        if (lastError.retryAfterMs > settings.maxDelayMs) return { error: lastError, attempts: attempt };
        delay = Math.max(delay, lastError.retryAfterMs);
      }
      await wait(delay);
    }
  }
  return { error: lastError!, attempts: settings.maxAttempts };
}
