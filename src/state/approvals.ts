/**
 * Approval tokens: HMAC-bound to the digest of (protocol, destination, payload), expiring, and
 * single-use. Only the human's side (approve.mjs, the PreToolUse hook's "ask") can mint one: the
 * key lives in the state directory, which the hook keeps the model's own tool calls out of.
 *
 *   token = "sg1." + request id + "." + expiry (unix seconds) + "." + base64url(HMAC(key, "sg1|id|expiry|digest"))
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PendingApproval, StateData } from './store.ts';

export type TokenCheck =
  | { ok: true; id: string; expiresAt: Date }
  | { ok: false; id: string | null; reason: string };

export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

function mac(key: Buffer, id: string, expiry: number, digest: string): string {
  return createHmac('sha256', key).update(`sg1|${id}|${expiry}|${digest}`).digest('base64url');
}

export function mintToken(key: Buffer, id: string, digest: string, expiresAt: Date): string {
  const expiry = Math.floor(expiresAt.getTime() / 1000);
  return `sg1.${id}.${expiry}.${mac(key, id, expiry, digest)}`;
}

/** Checks signature, binding and expiry; single use is checked against the state (isConsumed). */
export function verifyToken(key: Buffer, token: string, digest: string, now: Date): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'sg1' || !/^[a-z]+_[a-z0-9]+$/.test(parts[1]!) || !/^\d{1,12}$/.test(parts[2]!)) {
    return { ok: false, id: null, reason: 'the approval token is malformed' };
  }
  const [, id, expiryText, given] = parts as [string, string, string, string];
  const expiry = Number(expiryText);
  const expected = Buffer.from(mac(key, id, expiry, digest));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { ok: false, id, reason: 'the approval token was issued for a different message, destination or protocol (or by another sendgate installation)' };
  }
  if (expiry * 1000 <= now.getTime()) return { ok: false, id, reason: `the approval token expired at ${new Date(expiry * 1000).toISOString()}` };
  return { ok: true, id, expiresAt: new Date(expiry * 1000) };
}

/** Reuse an open request for the same digest, so asking twice does not pile up requests. */
export function openRequest(
  approvals: StateData<'approvals'>,
  request: Omit<PendingApproval, 'id' | 'created_at' | 'expires_at' | 'approved_at' | 'approved_via'>,
  now: Date,
  ttlSeconds: number,
): PendingApproval {
  pruneExpired(approvals, now);
  const existing = Object.values(approvals.pending).find((item) => item.digest === request.digest && item.kind === request.kind && !item.approved_at);
  if (existing) return existing;
  const record: PendingApproval = {
    ...request,
    id: newId(request.kind === 'first_contact' ? 'fc' : 'ap'),
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
    approved_at: null,
    approved_via: null,
  };
  approvals.pending[record.id] = record;
  return record;
}

export function pruneExpired(approvals: StateData<'approvals'>, now: Date): void {
  const day = 86_400_000;
  for (const [id, item] of Object.entries(approvals.pending)) {
    if (Date.parse(item.expires_at) + day < now.getTime()) delete approvals.pending[id];
  }
  // Consumed ids only need to outlive the longest token (ttl_seconds <= 1 day).
  for (const [id, at] of Object.entries(approvals.consumed)) {
    if (Date.parse(at) + 2 * day < now.getTime()) delete approvals.consumed[id];
  }
}
