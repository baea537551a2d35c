/** What a send counts as (rate keys) and which limits apply to it. */
import { describe, expect, it } from 'vitest';
import { policySchema } from '../../src/config/schema.ts';
import { parseMessage } from '../../src/message/parse.ts';
import { expandForKeys, limitsFor, rateKeys } from '../../src/pipeline/rate.ts';
import { parseDestination } from '../../src/target/parse.ts';
import { parseRateLimit } from '../../src/cli/send-args.ts';

const policy = policySchema.parse({ version: 1, rate_limit: { max_messages_per_minute: 5, max_messages_per_hour: 30, max_messages_per_destination_per_hour: 10 } });

function target(destination: string) {
  const parsed = parseDestination(destination, 'http');
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.target;
}

describe('rateKeys', () => {
  it('an HTTP send counts once, against the origin of the URL', () => {
    const message = parseMessage('{"a":1}', 'http');
    expect(rateKeys(target('https://Hooks.Example.com/a/b?x=1'), message)).toEqual(['http:https://hooks.example.com']);
    expect(rateKeys(target('https://hooks.example.com:8443/a'), message)).toEqual(['http:https://hooks.example.com:8443']);
  });
});

describe('limitsFor', () => {
  it('global per minute and per hour, per destination per hour, and the per-call form', () => {
    const keys = ['http:https://hooks.example.com'];
    const limits = limitsFor(policy, keys, { rate_limit: parseRateLimit('100/hour') });
    expect(limits.map(({ count, windowMs, key }) => [count, windowMs, key])).toEqual([
      [5, 60_000, null],
      [30, 3_600_000, null],
      [10, 3_600_000, keys[0]],
      [100, 3_600_000, keys[0]],
    ]);
    expect(limits[3]!.name).toContain('constraints.rate_limit 100/hour');
  });

  it('a send counting k keys needs k free slots in the global windows', () => {
    const limits = limitsFor(policy, ['a', 'b', 'c'], {});
    const expanded = expandForKeys(limits, 3);
    expect(expanded.filter((limit) => limit.key === null).map((limit) => limit.count)).toEqual([3, 28]);
    expect(expanded.filter((limit) => limit.key !== null).map((limit) => limit.count)).toEqual([10, 10, 10]);
    expect(expandForKeys(limits, 1)).toBe(limits);
  });
});

describe('parseRateLimit', () => {
  it('reads N/second|minute|hour|day and short units; rejects anything else', () => {
    expect(parseRateLimit('100/hour')).toEqual({ count: 100, windowMs: 3_600_000, text: '100/hour' });
    expect(parseRateLimit(' 3 / m ')).toEqual({ count: 3, windowMs: 60_000, text: '3/minute' });
    expect(parseRateLimit('1/d')).toEqual({ count: 1, windowMs: 86_400_000, text: '1/day' });
    expect(() => parseRateLimit('0/hour')).toThrow(/at least 1/);
    expect(() => parseRateLimit('100 per hour')).toThrow(/expected N\/minute/);
    expect(() => parseRateLimit('5/week')).toThrow();
  });
});
