/**
 * `npm run bench:http`: the wall time of one real HTTP delivery by `node skills/send/scripts/send.mjs`
 * (every guard, state lock, checkpoint, audit; approval off for the URL) next to `curl` and a bare
 * `node -e "await fetch(...)"` posting the same body to the same local server, in the same run.
 * Rounds interleave the three commands so drift (CPU frequency, page cache) hits all of them alike.
 *
 *   tsx bench/http-send.ts [--runs N] [--json] [--compare OTHER_SEND_MJS]
 *
 * --compare adds a second send.mjs (e.g. an older build: `git show REV:skills/send/scripts/send.mjs`)
 * to the same interleaved rounds, for before/after figures.
 *
 * Target (issue 4): the median of send.mjs within 1.5x the median of the bare node fetch.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEND = join(root, 'skills', 'send', 'scripts', 'send.mjs');
const flag = (name: string) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const RUNS = Number(flag('--runs') ?? 20);
const COMPARE = flag('--compare');
const TARGET = 1.5;

// The receiver runs in its own process, so the measured commands can be run synchronously.
const SERVER = `
const http = require('node:http');
let count = 0;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    count += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, n: count }));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.on('data', () => process.stdout.write('count ' + count + '\\n'));
process.stdin.on('end', () => process.exit(0));
`;

const receiver = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines: string[] = [];
let waiting: ((line: string) => void) | null = null;
let buffer = '';
receiver.stdout.on('data', (chunk: Buffer) => {
  buffer += chunk.toString();
  for (let index = buffer.indexOf('\n'); index >= 0; index = buffer.indexOf('\n')) {
    const line = buffer.slice(0, index);
    buffer = buffer.slice(index + 1);
    if (waiting) {
      const wake = waiting;
      waiting = null;
      wake(line);
    } else lines.push(line);
  }
});
const nextLine = () => new Promise<string>((done) => (lines.length ? done(lines.shift()!) : (waiting = done)));
const receivedCount = async () => {
  receiver.stdin.write('?\n');
  return Number((await nextLine()).split(' ')[1]);
};

const port = Number(await nextLine());
const url = `http://127.0.0.1:${port}/hooks/bench`;
const body = JSON.stringify({ text: 'Build #142 passed', build: 142 });

const work = mkdtempSync(join(tmpdir(), 'sendgate-bench-'));
const policy = join(work, 'policy.yaml');
writeFileSync(policy, `version: 1
network:
  allow_private: ["127.0.0.1/32"]
approval:
  not_required_for: ["${url}"]
rate_limit:
  max_messages_per_minute: 100000
  max_messages_per_hour: 100000
  max_messages_per_destination_per_hour: 100000
`);
const env = { ...process.env, SENDGATE_HOME: join(work, 'state'), SENDGATE_POLICY: '', HOME: work };

interface Command {
  name: string;
  argv: [string, ...string[]];
}
const commands: Command[] = [
  { name: 'send.mjs', argv: [process.execPath, SEND, '--destination', url, '--protocol', 'http', '--message', body, '--policy', policy] },
  { name: 'curl', argv: ['curl', '-sS', '-o', '/dev/null', '-X', 'POST', '-H', 'content-type: application/json', '--data', body, url] },
  ...(COMPARE ? [{ name: 'send (other)', argv: [process.execPath, resolve(COMPARE), '--destination', url, '--protocol', 'http', '--message', body, '--policy', policy] as Command['argv'] }] : []),
  {
    name: 'node fetch',
    argv: [process.execPath, '-e', `await fetch(${JSON.stringify(url)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body)} })`],
  },
];

function timeOnce(command: Command): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command.argv[0], command.argv.slice(1), { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command.name} exited ${result.status}: ${result.stderr || result.stdout}`);
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

try {
  for (const command of commands) timeOnce(command); // warm-up: page cache, state directory, approval key
  const before = await receivedCount();
  const times = new Map(commands.map((command) => [command.name, [] as number[]]));
  for (let round = 0; round < RUNS; round += 1) {
    for (const command of commands) times.get(command.name)!.push(timeOnce(command));
  }
  const received = (await receivedCount()) - before;
  if (received !== RUNS * commands.length) throw new Error(`the receiver got ${received} requests, expected ${RUNS * commands.length}`);

  const fetchMedian = median(times.get('node fetch')!);
  const rows = commands.map((command) => {
    const values = times.get(command.name)!;
    return { name: command.name, median: median(values), min: Math.min(...values), p90: percentile(values, 0.9), ratio: median(values) / fetchMedian };
  });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ runs: RUNS, node: process.version, rows }, null, 2));
  } else {
    console.log(`HTTP delivery to a local server, wall time per process, ${RUNS} runs each (interleaved), node ${process.version}\n`);
    console.log(`${'command'.padEnd(14)} ${'median'.padStart(9)} ${'min'.padStart(9)} ${'p90'.padStart(9)}   vs node fetch`);
    for (const row of rows) {
      console.log(`${row.name.padEnd(14)} ${row.median.toFixed(1).padStart(7)}ms ${row.min.toFixed(1).padStart(7)}ms ${row.p90.toFixed(1).padStart(7)}ms   ${row.ratio.toFixed(2)}x`);
    }
    const send = rows[0]!;
    console.log(`\nsend.mjs median ${send.ratio.toFixed(2)}x the bare node fetch (target <= ${TARGET}x): ${send.ratio <= TARGET ? 'met' : 'MISSED'}`);
  }
} finally {
  receiver.stdin.end();
  rmSync(work, { recursive: true, force: true });
}
