/**
 * Wires the real dependencies for a CLI run: the policy (search order of DESIGN.md), the state
 * directory, the audit path, system DNS with --resolve overrides, and the transports.
 */
// First: zod decides on its JIT when a schema is built, so this runs before any schema module.
import './zod-jitless.ts';
import { dirname, join } from 'node:path';
import { auditPath } from '../audit/log.ts';
import { loadPolicy } from '../config/load.ts';
import type { Protocol } from '../contract.ts';
import { systemLookup } from '../network/resolve.ts';
import type { SendEnvironment } from '../pipeline/send.ts';
import { StateStore } from '../state/store.ts';
import { deliverHttp } from '../transports/http.ts';
import type { DeliveryAttempt, Transport } from '../transports/types.ts';

// The e-mail transport (and nodemailer) is evaluated only when an e-mail is sent: an HTTP send does
// not pay for it at start-up (the bundler keeps a dynamically imported module lazy).
const smtp = () => import('../transports/smtp.ts');
const deliverSmtp: Transport<any> = async (attempt: DeliveryAttempt<any>) => (await smtp()).deliverSmtp(attempt);
const checkSmtpConfig = async (policy: SendEnvironment['policy'], env: NodeJS.ProcessEnv) => (await smtp()).checkSmtpConfig(policy, env);

export interface EnvironmentOptions {
  policyFile?: string | undefined;
  resolve?: Map<string, string[]>;
  transports?: Partial<Record<Protocol, Transport<any>>>;
}

/** The approve command as the user would type it, next to the running script. */
export function approveCommandFor(scriptPath: string | undefined): (id: string) => string {
  const dir = scriptPath ? dirname(scriptPath) : '.';
  const approve = scriptPath?.endsWith('.ts') ? `npx tsx ${join(dir, 'approve.ts')}` : `node "${join(dir, 'approve.mjs')}"`;
  return (id) => `${approve} approve ${id}`;
}

export function buildEnvironment(options: EnvironmentOptions): SendEnvironment {
  const { policy } = loadPolicy({ flag: options.policyFile });
  const store = new StateStore();
  return {
    policy,
    store,
    auditPath: auditPath(policy, store.dir),
    deps: { lookup: systemLookup, overrides: options.resolve ?? new Map(), now: () => new Date() },
    transports: { http: deliverHttp, smtp: deliverSmtp, ...options.transports },
    preflight: { smtp: checkSmtpConfig },
    triggeredBy: process.env.CLAUDECODE ? 'claude-code' : 'cli',
    sessionId: process.env.CLAUDE_SESSION_ID ?? null,
    approveCommand: approveCommandFor(process.argv[1]),
    env: process.env,
  };
}
