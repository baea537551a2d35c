/** Approval tokens: HMAC-bound to the digest, expiring, tamper-evident; requests reused and pruned. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mintToken, newId, openRequest, pruneExpired, verifyToken } from '../../src/state/approvals.ts';
import type { StateData } from '../../src/state/store.ts';

const emptyApprovals = (): StateData<'approvals'> => ({ version: 1, pending: {}, consumed: {} });

const key = randomBytes(32);
const digest = 'a'.repeat(64);
const now = new Date('2026-03-01T12:00:00Z');
const inTenMinutes = new Date(now.getTime() + 600_000);

describe('mintToken / verifyToken', () => {
  it('a token verifies for its digest until it expires', () => {
    const token = mintToken(key, 'ap_abc123', digest, inTenMinutes);
    expect(token).toMatch(/^sg1\.ap_abc123\.\d+\.[A-Za-z0-9_-]+$/);
    expect(verifyToken(key, token, digest, now)).toEqual({ ok: true, id: 'ap_abc123', expiresAt: new Date(Math.floor(inTenMinutes.getTime() / 1000) * 1000) });
  });

  it('is bound to the digest (another payload, destination or protocol) and to the installation key', () => {
    const token = mintToken(key, 'ap_abc123', digest, inTenMinutes);
    const other = verifyToken(key, token, 'b'.repeat(64), now);
    expect(other).toMatchObject({ ok: false, id: 'ap_abc123' });
    expect(!other.ok && other.reason).toContain('different message, destination or protocol');
    expect(verifyToken(randomBytes(32), token, digest, now)).toMatchObject({ ok: false });
  });

  it('expires (at the expiry second itself too)', () => {
    const token = mintToken(key, 'ap_abc123', digest, inTenMinutes);
    const expiry = Math.floor(inTenMinutes.getTime() / 1000) * 1000;
    expect(verifyToken(key, token, digest, new Date(expiry - 1)).ok).toBe(true);
    const late = verifyToken(key, token, digest, new Date(expiry));
    expect(late.ok).toBe(false);
    expect(!late.ok && late.reason).toContain('expired');
  });

  it('an edited expiry or id breaks the signature', () => {
    const token = mintToken(key, 'ap_abc123', digest, inTenMinutes);
    const [, id, expiry, mac] = token.split('.');
    expect(verifyToken(key, `sg1.${id}.${Number(expiry) + 86_400}.${mac}`, digest, now).ok).toBe(false);
    expect(verifyToken(key, `sg1.ap_abc124.${expiry}.${mac}`, digest, now).ok).toBe(false);
    expect(verifyToken(key, `sg1.${id}.${expiry}.${mac!.slice(0, -1)}`, digest, now).ok).toBe(false);
  });

  it('malformed tokens are rejected as malformed', () => {
    for (const token of ['', 'abc', 'sg2.ap_x.1.y', 'sg1.AP_X.1.y', 'sg1.ap_x.soon.y', 'sg1.ap_x.1', 'sg1.ap_x.1.y.z', 'sg1.ap-x.1.y']) {
      const check = verifyToken(key, token, digest, now);
      expect(check.ok, token).toBe(false);
      expect(!check.ok && check.reason).toContain('malformed');
    }
  });
});

describe('openRequest / pruneExpired', () => {
  const request = { digest, skill: 'send', protocol: 'http', destination: 'https://hooks.example.com/x', summary: 'hello', reason: 'why', kind: 'approval' as const };

  it('reuses the open request for the same digest; a new one once it was approved', () => {
    const approvals = emptyApprovals();
    const first = openRequest(approvals, request, now, 600);
    expect(first.id).toMatch(/^ap_/);
    expect(first.expires_at).toBe(inTenMinutes.toISOString());
    expect(openRequest(approvals, request, now, 600).id).toBe(first.id);
    expect(openRequest(approvals, { ...request, digest: 'c'.repeat(64) }, now, 600).id).not.toBe(first.id);
    approvals.pending[first.id]!.approved_at = now.toISOString();
    expect(openRequest(approvals, request, now, 600).id).not.toBe(first.id);
    expect(openRequest(approvals, { ...request, digest: 'd'.repeat(64), kind: 'first_contact' }, now, 600).id).toMatch(/^fc_/);
  });

  it('drops requests a day after they expired and consumed ids after two days', () => {
    const approvals = emptyApprovals();
    const old = openRequest(approvals, request, new Date(now.getTime() - 2 * 86_400_000), 600);
    approvals.consumed.ap_old = new Date(now.getTime() - 3 * 86_400_000).toISOString();
    approvals.consumed.ap_recent = new Date(now.getTime() - 86_400_000).toISOString();
    pruneExpired(approvals, now);
    expect(approvals.pending[old.id]).toBeUndefined();
    expect(Object.keys(approvals.consumed)).toEqual(['ap_recent']);
  });

  it('ids are unique and match the token id syntax', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => newId('ap')));
    expect(ids.size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^[a-z]+_[a-z0-9]+$/);
  });
});
