/**
 * Runs one scenario whose target is NOT loopback, inside a loopback-only network namespace, so that
 * if a guard failed the packet could not leave this machine. http-netns.test.ts starts it as
 *
 *   unshare -n bash -c 'ip link set lo up; exec tsx test/e2e/support/netns-driver.ts <scenario> <json>'
 *
 * and reads one JSON object from stdout. The receiving server runs here too (127.0.0.1 of the
 * namespace). The driver refuses to run when it sees any interface other than loopback.
 *
 * Scenarios:
 *   redirect   {location, resolve?}: /hook answers 302 to `location`; the real bundled send.mjs runs
 *   rebinding  {}: in-process executeSend with the real HTTP transport; the name answers a public
 *              address first and 127.0.0.1 (opened by the policy) after that
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { policySchema } from '../../../src/config/schema.ts';
import { executeSend } from '../../../src/pipeline/send.ts';
import { StateStore } from '../../../src/state/store.ts';
import { deliverHttp } from '../../../src/transports/http.ts';
import type { Transport } from '../../../src/transports/types.ts';
import { startHttpServer } from './http-server.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SEND = join(ROOT, 'skills', 'send', 'scripts', 'send.mjs');

const interfaces = Object.keys(networkInterfaces());
if (interfaces.some((name) => name !== 'lo')) {
  process.stderr.write(`netns-driver: refusing to run outside a loopback-only namespace (interfaces: ${interfaces.join(', ')})\n`);
  process.exit(99);
}

const [scenario, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Record<string, any>;
const work = mkdtempSync(join(tmpdir(), 'sendgate-netns-'));
const server = await startHttpServer();

function writePolicy(extra: Record<string, unknown> = {}): string {
  const file = join(work, 'policy.yaml');
  writeFileSync(file, JSON.stringify({
    version: 1,
    approval: { required: false },
    network: { allow_private: ['127.0.0.1/32'] },
    delivery: { timeout_ms: 2_000, max_attempts: 2, base_delay_ms: 10, max_delay_ms: 20 },
    ...extra,
  }));
  return file;
}

async function redirect(): Promise<unknown> {
  server.script('/hook', { status: 302, redirect: args.location });
  const policy = writePolicy(args.policy ?? {});
  const cli = ['--destination', server.url('/hook'), '--protocol', 'http', '--message', '{"text":"hi"}', '--policy', policy, '--format', 'json',
    ...(args.resolve ? ['--resolve', args.resolve] : [])];
  const result = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((done) => {
    execFile(process.execPath, [SEND, ...cli], { env: { PATH: process.env.PATH, HOME: work, SENDGATE_HOME: join(work, 'state') }, timeout: 30_000 }, (error, stdout, stderr) =>
      done({ exitCode: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }));
  });
  return { ...result, output: result.stdout ? JSON.parse(result.stdout) : null, requests: server.requests.map(({ method, path, host }) => ({ method, path, host })) };
}

async function rebinding(): Promise<unknown> {
  const host = 'hooks.example.com';
  const lookups: string[][] = [];
  const lookup = async (name: string) => {
    const answer = lookups.length === 0 ? ['93.184.216.34'] : ['127.0.0.1'];
    lookups.push([name, ...answer]);
    return answer;
  };
  const connectedTo: string[][] = [];
  const recording: Transport<any> = (attempt) => {
    connectedTo.push([...attempt.endpoint.addresses]);
    return deliverHttp(attempt);
  };
  const result = await executeSend(
    { skill: 'send', protocol: 'http', destination: `http://${host}:${server.port}/hook`, message: '{"text":"hi"}', constraints: {}, dryRun: false },
    {
      policy: policySchema.parse({ version: 1, approval: { required: false }, network: { allow_private: ['127.0.0.1/32'] }, delivery: { timeout_ms: 2_000, max_attempts: 2, base_delay_ms: 10, max_delay_ms: 20 } }),
      store: new StateStore(join(work, 'state')),
      auditPath: join(work, 'audit.jsonl'),
      deps: { lookup, overrides: new Map(), now: () => new Date() },
      transports: { http: recording },
      triggeredBy: 'test',
      approveCommand: (id) => `approve ${id}`,
      env: {},
    },
  );
  return { exitCode: result.exitCode, output: result.output, lookups, connectedTo, requests: server.requests.map(({ method, path, host: h }) => ({ method, path, host: h })) };
}

let report: unknown;
try {
  if (scenario === 'redirect') report = await redirect();
  else if (scenario === 'rebinding') report = await rebinding();
  else throw new Error(`unknown scenario ${scenario}`);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(report)}\n`);
