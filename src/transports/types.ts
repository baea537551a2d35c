/**
 * What the pipeline hands a transport, and what a transport returns. Retries live in the pipeline
 * (src/pipeline/retry.ts); a transport makes one attempt and either returns a confirmation or
 * throws a DeliveryError whose `retryable` says whether another attempt may help.
 */
import type { Policy } from '../config/schema.ts';
import type { Endpoint } from '../guards/types.ts';
import type { Message } from '../message/types.ts';
import type { Target } from '../target/parse.ts';

export interface DeliveryAttempt<M extends Message = Message> {
  target: Target;
  /** Where to connect: the transport must use only endpoint.addresses (already vetted), never re-resolve. */
  endpoint: Endpoint;
  message: M;
  policy: Policy;
  timeoutMs: number;
  /** Stable across re-runs of the same checkpoint (HTTP: Idempotency-Key header; mail: Message-ID). */
  idempotencyKey: string;
  /** Re-check a host met on the way (an HTTP redirect hop) with the same guards as the first. */
  recheck?: (destination: string) => Promise<{ ok: true; target: Target; endpoint: Endpoint } | { ok: false; code: string; reason: string }>;
  env: NodeJS.ProcessEnv;
}

export interface DeliveryConfirmation {
  status: 'sent' | 'queued';
  responseCode: number | null;
  /** What the peer said (truncated, masked where it could echo secrets): the delivery evidence. */
  confirmation: string;
  evidence: string[];
}

export type Transport<M extends Message = Message> = (attempt: DeliveryAttempt<M>) => Promise<DeliveryConfirmation>;
