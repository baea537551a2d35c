/**
 * `npm run demo`: a guided tour on an embedded default. Starts a local webhook receiver, writes a
 * demo policy and state directory under a temp dir, and drives the real bundled CLI through the
 * main job: blocked destinations, a blocked secret, approval, delivery, a rate limit, audit verify.
 * Nothing leaves this machine: the only real deliveries go to the local receiver on 127.0.0.1.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { StateStore } from '../src/state/store.ts';
import { mintToken } from '../src/state/approvals.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = join(root, 'skills', 'send', 'scripts');
const work = mkdtempSync(join(tmpdir(), 'sendgate-demo-'));
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

const received: string[] = [];
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    received.push(body);
    console.log(dim(`    [receiver] ${request.method} ${request.url}  Idempotency-Key: ${request.headers['idempotency-key']}  body: ${body}`));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
});
await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
const port = (receiver.address() as { port: number }).port;
const base = `http://127.0.0.1:${port}`;

const policyFile = join(work, 'policy.yaml');
writeFileSync(policyFile, `version: 1
network:
  allow_private: ["127.0.0.1/32"]   # the demo receiver; private ranges are closed unless opened here
destinations:
  allow: ["${base}/hooks/", "${base}/metrics"]
approval:
  required: true
  not_required_for: ["${base}/metrics"]   # low-risk telemetry the operator trusts
rate_limit:
  max_messages_per_minute: 3
  max_messages_per_hour: 30
  max_messages_per_destination_per_hour: 10
  cooldown_after_limit: 60
`);
const env = { ...process.env, SENDGATE_HOME: join(work, 'state'), SENDGATE_POLICY: policyFile };
// No policy at all: the secure defaults (public destinations only, approval always, secrets blocked).
const defaultsEnv = { ...env, SENDGATE_POLICY: '', HOME: work, CLAUDE_PROJECT_DIR: '' };

const run = promisify(execFile);

// Asynchronous on purpose: the receiver lives in this process and must answer while the CLI runs.
async function send(title: string, args: string[], environment: NodeJS.ProcessEnv = env) {
  console.log(`\n${bold(title)}`);
  console.log(dim(`  $ node skills/send/scripts/send.mjs ${args.map((a) => (/[\s"{}]/.test(a) ? `'${a}'` : a)).join(' ')}`));
  const result = await run(process.execPath, [join(scripts, 'send.mjs'), ...args, '--format', 'yaml'], { env: environment, encoding: 'utf8' }).then(
    (ok) => ({ status: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ status: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
  return report(result);
}

function report(run: { status: number | null; stdout: string; stderr: string }) {
  const output = run.stdout ? (parse(run.stdout) as Record<string, any>) : null;
  if (!output) {
    console.log(`  exit ${run.status}: ${run.stderr.trim()}`);
    return { status: run.status, output };
  }
  const blocking = (output.constraints_applied as any[]).find((c) => c.result !== 'pass');
  console.log(`  exit ${run.status}  delivery.status: ${bold(output.delivery.status)}${output.delivery.response_code ? `  (HTTP ${output.delivery.response_code})` : ''}`);
  if (blocking) console.log(`  ${blocking.code}: ${blocking.reason}`);
  if (output.delivery.error && !blocking) console.log(`  error: ${output.delivery.error}`);
  if (output.delivery.confirmation) console.log(`  confirmation: ${output.delivery.confirmation}`);
  if (output.approval?.request_id && output.delivery.status === 'approval_required') console.log(`  approval request: ${output.approval.request_id}`);
  if (output.checkpoint_ref) console.log(`  checkpoint_ref: ${output.checkpoint_ref}   audit_id: ${output.audit_id}`);
  return { status: run.status, output };
}

try {
  console.log(bold('sendgate demo') + dim(`  (policy ${policyFile}, local receiver ${base})`));

  console.log(dim('\nSteps 1-2 run with no policy at all (secure defaults); the rest with the demo policy above.'));
  await send('1. The cloud metadata endpoint, written as a decimal number, is blocked (dry run: nothing is sent either way)', [
    '--destination', 'http://2852039166/latest/meta-data/', '--protocol', 'http', '--message', 'hi', '--dry-run'], defaultsEnv);
  await send('2. A private address hidden in an IPv4-mapped IPv6 literal is blocked', ['--destination', 'https://[::ffff:10.0.0.5]/hook', '--protocol', 'http', '--message', 'hi', '--dry-run'], defaultsEnv);
  await send('3. A public host that is not on the allowlist is blocked', ['--destination', 'https://example.org/hook', '--protocol', 'http', '--message', 'hi', '--dry-run', '--resolve', 'example.org=93.184.215.14']);
  await send('4. A message carrying a credential is blocked; the output shows only a masked excerpt', [
    '--destination', `${base}/hooks/deploy`, '--protocol', 'http', '--message', JSON.stringify({ text: 'deploy with key AKIAZ7QHSB4LYX3TQW5M' })]);

  const message = JSON.stringify({ text: 'Build #142 passed on main' });
  const first = await send('5. A clean message to an allowed destination needs the user\'s approval', ['--destination', `${base}/hooks/deploy`, '--protocol', 'http', '--message', message]);
  const requestId = first.output?.approval?.request_id as string;

  console.log(`\n${bold('6. The user approves it')} ${dim('(in real use: `node skills/send/scripts/approve.mjs approve ' + requestId + '` in their terminal, or "Yes" in Claude Code\'s prompt)')}`);
  const store = new StateStore(env.SENDGATE_HOME);
  const pending = store.read('approvals').pending[requestId]!;
  const token = mintToken(await store.hmacKey(), pending.id, pending.digest, new Date(Date.parse(pending.expires_at)));
  console.log(dim(`  token: ${token.slice(0, 24)}… (single use, bound to this exact message and destination)`));

  await send('7. The same send with the token is delivered, with the receiver\'s confirmation', ['--destination', `${base}/hooks/deploy`, '--protocol', 'http', '--message', message, '--approval-token', token]);
  await send('8. Re-running it does not deliver twice', ['--destination', `${base}/hooks/deploy`, '--protocol', 'http', '--message', message, '--approval-token', token]);
  await send('9. The token does not fit another message', ['--destination', `${base}/hooks/deploy`, '--protocol', 'http', '--message', JSON.stringify({ text: 'Build #143 passed' }), '--approval-token', token]);

  console.log(`\n${bold('10. Rate limits: 3 messages a minute in this policy (telemetry needs no approval)')}`);
  for (let i = 1; i <= 4; i += 1) await send(`   metrics #${i}`, ['--destination', `${base}/metrics`, '--protocol', 'http', '--message', JSON.stringify({ metric: 'build.duration', value: 40 + i })]);

  console.log(`\n${bold('11. The audit log is hash-chained; verify it')}`);
  const verify = spawnSync(process.execPath, [join(scripts, 'audit.mjs'), 'verify'], { env, encoding: 'utf8' });
  console.log(`  ${verify.stdout.trim()}`);
  console.log(`\nThe receiver got ${received.length} message(s). Everything else was stopped before it left.`);
} finally {
  receiver.close();
  rmSync(work, { recursive: true, force: true });
}
