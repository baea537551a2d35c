/**
 * Sliding-window rate limits over the state's event list, with a cooldown once any limit is hit.
 * check() and record() run in one transaction, so racing senders cannot both take the last slot.
 */
import type { StateData } from './store.ts';

export interface Limit {
  name: string;
  count: number;
  windowMs: number;
  /** null: every send counts; otherwise only sends with this key (a destination or a contact). */
  key: string | null;
}

export type RateDecision =
  | { ok: true; detail: string }
  | { ok: false; code: 'RATE_LIMITED' | 'COOLDOWN_ACTIVE'; reason: string; retryAfterSeconds: number };

const MAX_WINDOW_MS = 86_400_000;

export function checkRate(rate: StateData<'rate'>, limits: readonly Limit[], now: number, cooldownSeconds: number): RateDecision {
  rate.events = rate.events.filter((event) => event.at > now - MAX_WINDOW_MS);
  if (rate.cooldown_until !== null && rate.cooldown_until > now) {
    return {
      ok: false,
      code: 'COOLDOWN_ACTIVE',
      reason: `sending is paused until ${new Date(rate.cooldown_until).toISOString()} (cooldown after ${rate.cooldown_reason ?? 'a rate limit'})`,
      retryAfterSeconds: Math.ceil((rate.cooldown_until - now) / 1000),
    };
  }
  for (const limit of limits) {
    const inWindow = rate.events.filter((event) => event.at > now - limit.windowMs && (limit.key === null || event.key === limit.key));
    if (inWindow.length >= limit.count) {
      const oldest = Math.min(...inWindow.map((event) => event.at));
      const windowEnds = oldest + limit.windowMs;
      if (cooldownSeconds > 0) {
        rate.cooldown_until = Math.max(windowEnds, now + cooldownSeconds * 1000);
        rate.cooldown_reason = limit.name;
      }
      const until = cooldownSeconds > 0 ? rate.cooldown_until! : windowEnds;
      return {
        ok: false,
        code: 'RATE_LIMITED',
        reason: `${limit.name}: ${inWindow.length} of ${limit.count} already sent in the window; next send possible at ${new Date(until).toISOString()}`,
        retryAfterSeconds: Math.ceil((until - now) / 1000),
      };
    }
  }
  return { ok: true, detail: limits.map((limit) => `${limit.name} ${limit.count}`).join(', ') };
}

export function recordSend(rate: StateData<'rate'>, key: string, skill: string, now: number): void {
  rate.events.push({ at: now, key, skill });
}

/** How many sends in the window would still be allowed (for dry runs, which count toward nothing). */
export function peekRate(rate: StateData<'rate'>, limits: readonly Limit[], now: number): RateDecision {
  const copy = structuredClone(rate);
  return checkRate(copy, limits, now, 0);
}
