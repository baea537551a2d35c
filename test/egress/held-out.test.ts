/**
 * Held-out measurement: commands written before tuning and used for nothing else. Prints the
 * figures (denied share of the internal / secret-bearing list, untouched share of the benign list)
 * and holds them at the floor they reached, so a regression shows.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../src/config/load.ts';
import { checkBashCommand } from '../../src/egress/check.ts';
import { HELD_OUT_BENIGN, HELD_OUT_DENY } from './held-out.data.ts';
import { makeSandbox } from './support.ts';

const sandbox = makeSandbox();
const policy = defaultPolicy();
const misses: string[] = [];
const touched: string[] = [];

describe('held-out egress commands (guard mode)', () => {
  it('denies the internal-network and secret-bearing ones', async () => {
    for (const command of HELD_OUT_DENY) {
      const verdict = await checkBashCommand(command, policy, sandbox.deps);
      if (!verdict.deny) misses.push(command);
    }
    const rate = (HELD_OUT_DENY.length - misses.length) / HELD_OUT_DENY.length;
    expect(rate).toBeGreaterThanOrEqual(Number(process.env.HELD_OUT_DENY_FLOOR ?? 0.9));
  });

  it('touches none of the benign ones', async () => {
    for (const command of HELD_OUT_BENIGN) {
      const verdict = await checkBashCommand(command, policy, sandbox.deps);
      if (verdict.deny) touched.push(`${command}  <- ${verdict.code}: ${verdict.reason}`);
    }
    expect(touched.length).toBeLessThanOrEqual(Number(process.env.HELD_OUT_BENIGN_CEILING ?? 1));
  });

  afterAll(() => {
    const lines = [
      `held-out: denied ${HELD_OUT_DENY.length - misses.length}/${HELD_OUT_DENY.length} internal/secret-bearing commands; touched ${touched.length}/${HELD_OUT_BENIGN.length} benign commands`,
      ...misses.map((command) => `  missed: ${JSON.stringify(command)}`),
      ...touched.map((command) => `  touched: ${JSON.stringify(command)}`),
    ];
    console.log(lines.join('\n'));
  });
});
