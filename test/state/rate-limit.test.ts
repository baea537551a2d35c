/** Sliding windows, per-key limits and the cooldown once a limit is hit. */
import { describe, expect, it } from 'vitest';
import { checkRate, peekRate, recordSend, type Limit } from '../../src/state/rate-limit.ts';
import { STATE_FILES } from '../../src/state/store.ts';

const T = Date.parse('2026-03-01T12:00:00Z');
const minute: Limit = { name: 'per minute', count: 2, windowMs: 60_000, key: null };
const hour: Limit = { name: 'per hour', count: 3, windowMs: 3_600_000, key: null };
const perDestination: Limit = { name: 'per destination', count: 1, windowMs: 3_600_000, key: 'http:a' };

function rate(events: [number, string][]) {
  const state = STATE_FILES.rate.empty();
  for (const [at, key] of events) recordSend(state, key, 'send', at);
  return state;
}

describe('checkRate', () => {
  it('counts only the events inside each sliding window', () => {
    expect(checkRate(rate([[T - 61_000, 'x'], [T - 59_000, 'x']]), [minute], T, 0).ok).toBe(true);
    const full = checkRate(rate([[T - 30_000, 'x'], [T - 10_000, 'x']]), [minute], T, 0);
    expect(full).toMatchObject({ ok: false, code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    expect(!full.ok && full.reason).toContain('per minute: 2 of 2');
  });

  it('the hour window holds when the minute window is free', () => {
    const state = rate([[T - 50 * 60_000, 'x'], [T - 20 * 60_000, 'x'], [T - 5 * 60_000, 'x']]);
    const decision = checkRate(state, [minute, hour], T, 0);
    expect(decision).toMatchObject({ ok: false, code: 'RATE_LIMITED', retryAfterSeconds: 600 });
  });

  it('a per-destination limit counts only its own key', () => {
    expect(checkRate(rate([[T - 1_000, 'http:b']]), [perDestination], T, 0).ok).toBe(true);
    expect(checkRate(rate([[T - 1_000, 'http:a']]), [perDestination], T, 0).ok).toBe(false);
  });

  it('hitting a limit starts a cooldown that then holds every send, whatever its key', () => {
    const state = rate([[T - 1_000, 'http:a']]);
    const hit = checkRate(state, [perDestination], T, 300);
    expect(hit).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
    // The cooldown runs to the later of (window end, now + cooldown): here the window end.
    expect(state.cooldown_until).toBe(T - 1_000 + 3_600_000);
    expect(state.cooldown_reason).toBe('per destination');
    const other = checkRate(state, [{ ...perDestination, key: 'http:b' }], T + 1_000, 300);
    expect(other).toMatchObject({ ok: false, code: 'COOLDOWN_ACTIVE' });
    expect(!other.ok && other.retryAfterSeconds).toBe(3_598);
  });

  it('a cooldown longer than the window; once over, sends flow again', () => {
    const state = rate([[T - 50_000, 'x'], [T - 40_000, 'x']]);
    expect(checkRate(state, [minute], T, 300).ok).toBe(false);
    expect(state.cooldown_until).toBe(T + 300_000);
    expect(checkRate(state, [minute], T + 120_000, 300)).toMatchObject({ ok: false, code: 'COOLDOWN_ACTIVE', retryAfterSeconds: 180 });
    expect(checkRate(state, [minute], T + 300_001, 300).ok).toBe(true);
  });

  it('drops events older than a day', () => {
    const state = rate([[T - 2 * 86_400_000, 'x'], [T - 1_000, 'x']]);
    checkRate(state, [minute], T, 0);
    expect(state.events).toHaveLength(1);
  });
});

describe('peekRate', () => {
  it('answers without starting a cooldown or dropping anything', () => {
    const state = rate([[T - 2 * 86_400_000, 'x'], [T - 30_000, 'x'], [T - 10_000, 'x']]);
    const before = JSON.stringify(state);
    expect(peekRate(state, [minute], T)).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
    expect(JSON.stringify(state)).toBe(before);
  });
});
