/**
 * In-process pipeline runs: a SendEnvironment with a temp state directory, a policy built from a
 * partial input, a scripted lookup, fake transports and a recorded (instant) wait.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policySchema, type PolicyInput } from '../../src/config/schema.ts';
import type { Protocol } from '../../src/contract.ts';
import { executeSend, type SendEnvironment, type SendInputs } from '../../src/pipeline/send.ts';
import { StateStore } from '../../src/state/store.ts';
import type { DeliveryAttempt, DeliveryConfirmation, Transport } from '../../src/transports/types.ts';

export interface Harness {
  dir: string;
  store: StateStore;
  auditPath: string;
  lookups: string[];
  waits: number[];
  attempts: DeliveryAttempt<any>[];
  env(overrides?: Partial<SendEnvironment>): SendEnvironment;
  send(inputs: Partial<SendInputs>, overrides?: Partial<SendEnvironment>): ReturnType<typeof executeSend>;
  cleanup(): void;
}

export const OK: DeliveryConfirmation = { status: 'sent', responseCode: 200, confirmation: 'HTTP 200: ok', evidence: ['http:200'] };

export interface HarnessOptions {
  policy?: Partial<PolicyInput>;
  /** host -> answers, one per call (the last repeats). Default: every name is 127.0.0.1. */
  answers?: Record<string, string[][]>;
  transport?: Transport<any>;
  now?: () => Date;
}

export function harness(options: HarnessOptions = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'sendgate-pipeline-'));
  const store = new StateStore(join(dir, 'state'));
  const auditPath = join(dir, 'state', 'audit', 'sendgate.jsonl');
  const lookups: string[] = [];
  const waits: number[] = [];
  const attempts: DeliveryAttempt<any>[] = [];
  const calls = new Map<string, number>();
  const policy = policySchema.parse({
    version: 1,
    approval: { required: false },
    network: { allow_private: ['127.0.0.1/32'] },
    rate_limit: { max_messages_per_minute: 100, max_messages_per_hour: 1000, max_messages_per_destination_per_hour: 1000, cooldown_after_limit: 0 },
    delivery: { timeout_ms: 2_000, max_attempts: 3, base_delay_ms: 10, max_delay_ms: 100 },
    ...options.policy,
  });
  const transport: Transport<any> = async (attempt) => {
    attempts.push(attempt);
    return options.transport ? options.transport(attempt) : OK;
  };
  const env = (overrides: Partial<SendEnvironment> = {}): SendEnvironment => ({
    policy,
    store,
    auditPath,
    deps: {
      lookup: async (host: string) => {
        lookups.push(host);
        const script = options.answers?.[host] ?? [['127.0.0.1']];
        const index = calls.get(host) ?? 0;
        calls.set(host, index + 1);
        return script[Math.min(index, script.length - 1)]!;
      },
      overrides: new Map(),
      now: options.now ?? (() => new Date()),
    },
    transports: { http: transport } as Partial<Record<Protocol, Transport<any>>>,
    triggeredBy: 'test',
    approveCommand: (id) => `approve ${id}`,
    env: {},
    wait: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return {
    dir, store, auditPath, lookups, waits, attempts, env,
    send: (inputs, overrides) => executeSend({
      skill: 'send', protocol: 'http', destination: 'http://127.0.0.1:8080/hook', message: '{"text":"hello"}', constraints: {}, dryRun: false, ...inputs,
    }, env(overrides)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A pid that is certainly not running any more (a child that has exited and been reaped). */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}
