/**
 * Held-out measurement: destinations written before the main tables ran, in notations the tables do
 * not use. Reports misses (internal / malformed destinations that passed) and false blocks (good
 * destinations that were blocked), and expects zero of each.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../src/config/schema.ts';
import type { Protocol } from '../../src/contract.ts';
import { guard, makePolicy } from '../support/guards.ts';

interface Holdout {
  policy: PolicyInput;
  dns: Record<string, string[]>;
  cases: { destination: string; protocol: Protocol; expect: 'blocked' | 'allowed'; why: string }[];
}

const holdout = JSON.parse(readFileSync(new URL('../fixtures/destinations/holdout.json', import.meta.url), 'utf8')) as Holdout;

describe('held-out destinations', () => {
  it('are judged with zero misses and zero false blocks', async () => {
    const { version: _version, ...policyInput } = holdout.policy;
    const policy = makePolicy(policyInput);
    const misses: string[] = [];
    const falseBlocks: string[] = [];
    for (const item of holdout.cases) {
      const outcome = await guard(item.destination, item.protocol, { policy, dns: holdout.dns });
      const verdict = outcome.blocked ? 'blocked' : 'allowed';
      if (verdict === item.expect) continue;
      const line = `${item.protocol} ${JSON.stringify(item.destination)} (${item.why}): ${outcome.code ?? 'passed'} ${outcome.reason}`;
      (item.expect === 'blocked' ? misses : falseBlocks).push(line);
    }
    const blocked = holdout.cases.filter((item) => item.expect === 'blocked').length;
    console.log(`held-out: ${holdout.cases.length} destinations (${blocked} blocked, ${holdout.cases.length - blocked} allowed): ${misses.length} misses, ${falseBlocks.length} false blocks`);
    expect(holdout.cases.length).toBeGreaterThanOrEqual(60);
    expect({ misses, falseBlocks }).toEqual({ misses: [], falseBlocks: [] });
  });
});
