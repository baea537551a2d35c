/**
 * The one place the guard order is fixed. The hook and every sender run these same guards.
 *
 *   1. target       parse and normalise the destination (nothing else can run without it)
 *   2. destination  allow / deny lists and ports: cheap, no I/O
 *   3. payload      size, the user's deny patterns, secrets and PII: no I/O
 *   4. network      resolve the endpoint and classify every address (DNS: last of the stateless checks)
 *
 * Stateful checks (rate limits, approval, checkpoint) follow in the pipeline, after these pass.
 * A guard that throws blocks (GUARD_ERROR): security code fails closed.
 */
import type { Constraint } from '../contract.ts';
import { isSendgateError } from '../errors.ts';
import { destinationGuard } from './destination.ts';
import { networkGuard } from './network.ts';
import { denyPatternGuard, payloadSizeGuard } from './payload.ts';
import { secretsGuard } from './secrets.ts';
import { targetGuard } from './target.ts';
import { block, type Guard, type GuardContext } from './types.ts';

export const STATELESS_GUARDS: readonly Guard[] = [targetGuard, destinationGuard, payloadSizeGuard, denyPatternGuard, secretsGuard, networkGuard];

export interface GuardRun {
  blocked: boolean;
  constraints: Constraint[];
}

export async function runGuards(context: GuardContext, guards: readonly Guard[] = STATELESS_GUARDS): Promise<GuardRun> {
  const constraints: Constraint[] = [];
  for (const guard of guards) {
    let results: Constraint[];
    try {
      results = await guard.check(context);
    } catch (error) {
      // Configuration problems keep their own exit code (78); everything else is a block.
      if (isSendgateError(error) && error.exitCode === 78) throw error;
      const message = isSendgateError(error) ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
      results = [block(guard.name, 'GUARD_ERROR', `the ${guard.name} guard failed, so the send is blocked: ${message}`)];
    }
    constraints.push(...results);
    if (results.some((constraint) => constraint.result === 'block')) return { blocked: true, constraints };
  }
  return { blocked: false, constraints };
}
