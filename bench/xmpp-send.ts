/**
 * End-to-end speed of xmpp-send against Debian's go-sendxmpp and sendxmpp, in the same run, against
 * the same private Prosody account (test/e2e/support/prosody.ts: Prosody 0.12 defaults, SCRAM-SHA-1
 * at the default 10 000 iterations, STARTTLS with a verified certificate).
 *
 * Each sample is one process, from spawn to exit, sending one chat message to bob, who is online
 * (and answers XEP-0184 receipts; only xmpp-send asks for one). Clients run round-robin so load
 * changes hit all of them alike; every message is checked to have reached bob.
 *
 *   npx tsx bench/xmpp-send.ts [--runs N] [--warmup N] [--bundle PATH] [--json]
 *
 * The xmpp-send bundle is built from the current sources into a temporary directory unless
 * --bundle names one. Target: median no slower than go-sendxmpp.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAll } from '../scripts/build.ts';
import { startProsody } from '../test/e2e/support/prosody.ts';
import { connectPeer } from '../test/e2e/support/xmpp-peer.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, warmup: { type: 'string', default: '2' }, bundle: { type: 'string' }, json: { type: 'boolean', default: false }, 'skip-perl': { type: 'boolean', default: false } },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const work = mkdtempSync(join(tmpdir(), 'sendgate-bench-xmpp-'));
const PASSWORD = 'bench-agent-pw';

function which(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
}

interface Sample {
  ms: number;
  exitCode: number | null;
  stderr: string;
}

function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Sample> {
  return new Promise((done) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => done({ ms: Number(process.hrtime.bigint() - started) / 1e6, exitCode: code, stderr }));
  });
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;

async function main() {
  let bundle = values.bundle ? resolve(values.bundle) : '';
  if (!bundle) {
    await buildAll(join(work, 'build'));
    bundle = join(work, 'build', 'skills', 'xmpp_send', 'scripts', 'xmpp-send.mjs');
  }
  const server = await startProsody({ users: { agent: PASSWORD, bob: 'bench-bob-pw' } });
  const bob = await connectPeer(server, 'bob', 'bench-bob-pw');
  try {
    const recipient = `bob@${server.domain}`;
    const policyFile = join(work, 'policy.yaml');
    writeFileSync(policyFile, JSON.stringify({
      version: 1,
      approval: { required: false },
      network: { allow_private: ['127.0.0.1/32'] },
      rate_limit: { max_messages_per_minute: 100_000, max_messages_per_hour: 100_000, max_messages_per_destination_per_hour: 100_000, cooldown_after_limit: 0 },
      xmpp: {
        jid: `agent@${server.domain}`, password_env: 'SENDGATE_XMPP_PASSWORD', service: server.service, ca_file: server.caFile,
        allowed_contacts: [recipient], require_first_contact_confirmation: false, max_messages_per_contact_per_hour: 100_000,
      },
    }));
    const goConfig = join(work, 'go-sendxmpprc');
    writeFileSync(goConfig, `username: agent@${server.domain}\npassword: ${PASSWORD}\njserver: 127.0.0.1:${server.c2sPort}\n`, { mode: 0o600 });
    const baseEnv = { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8' };

    type Client = { name: string; available: boolean; run: (marker: string) => Promise<Sample> };
    const clients: Client[] = [
      {
        name: 'sendgate xmpp-send.mjs',
        available: true,
        run: (marker) => timeProcess(process.execPath, [bundle, '--to', recipient, '--body', marker, '--policy', policyFile, '--format', 'json'],
          { ...baseEnv, SENDGATE_HOME: join(work, 'state'), SENDGATE_XMPP_PASSWORD: PASSWORD }),
      },
      {
        name: 'go-sendxmpp',
        available: which('go-sendxmpp'),
        // The private CA through Go's standard variable; the message on stdin.
        run: (marker) => timeProcess('go-sendxmpp', ['-f', goConfig, recipient], { ...baseEnv, SSL_CERT_FILE: server.caFile }, `${marker}\n`),
      },
      {
        name: 'sendxmpp (Perl)',
        available: which('sendxmpp') && !values['skip-perl'],
        run: (marker) => timeProcess('sendxmpp', ['-u', 'agent', '-p', PASSWORD, '-j', `127.0.0.1:${server.c2sPort}`, '-o', server.domain, '-t', '-a', server.caFile, recipient], baseEnv, `${marker}\n`),
      },
    ];
    const active = clients.filter((client) => client.available);
    const samples = new Map<string, number[]>(active.map((client) => [client.name, []]));
    let counter = 0;
    for (let round = 0; round < warmup + runs; round += 1) {
      for (const client of active) {
        counter += 1;
        const marker = `bench message ${counter} ${client.name}`;
        const sample = await client.run(marker);
        if (sample.exitCode !== 0) throw new Error(`${client.name} exited ${sample.exitCode}: ${sample.stderr.slice(0, 500)}`);
        await bob.waitForMessage((message) => message.body?.startsWith(marker) ?? false, 5_000);
        if (round >= warmup) samples.get(client.name)!.push(sample.ms);
      }
    }
    const rows = active.map((client) => {
      const sorted = [...samples.get(client.name)!].sort((a, b) => a - b);
      return { client: client.name, runs: sorted.length, median_ms: quantile(sorted, 0.5), p10_ms: quantile(sorted, 0.1), p90_ms: quantile(sorted, 0.9), min_ms: sorted[0]!, max_ms: sorted.at(-1)! };
    });
    const ours = rows.find((row) => row.client.startsWith('sendgate'))!;
    const go = rows.find((row) => row.client === 'go-sendxmpp');
    if (values.json) {
      console.log(JSON.stringify({ rows, target_met: go ? ours.median_ms <= go.median_ms : null }, null, 2));
    } else {
      console.log(`One chat message, process start to exit, SCRAM-SHA-1 over STARTTLS (Prosody ${server.domain}, default iterations), ${runs} runs after ${warmup} warm-up, round-robin:`);
      for (const row of rows) {
        console.log(`  ${row.client.padEnd(24)} median ${row.median_ms.toFixed(1).padStart(7)} ms   p10 ${row.p10_ms.toFixed(1).padStart(7)}   p90 ${row.p90_ms.toFixed(1).padStart(7)}   min ${row.min_ms.toFixed(1).padStart(7)}   max ${row.max_ms.toFixed(1).padStart(7)}`);
      }
      if (go) console.log(`  target (median <= go-sendxmpp): ${ours.median_ms <= go.median_ms ? 'met' : 'NOT met'} (${(ours.median_ms / go.median_ms).toFixed(2)}x)`);
      else console.log('  go-sendxmpp is not installed: apt-get install go-sendxmpp sendxmpp');
    }
  } finally {
    await bob.close();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
