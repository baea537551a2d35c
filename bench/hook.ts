/**
 * PreToolUse hook wall time, side by side with `node -e 0` in the same run: a benign Bash command
 * (the fast path: no policy, no DNS, no state), a send invocation (the full path: policy, guards,
 * approval token), and a denied egress command. Medians over N runs (default 30), interleaved so
 * machine noise hits every series alike. Nothing here touches the network: the send goes to a
 * literal public address in dry-run-free "ask" mode (no connection is made by the hook), and the
 * egress command names a private literal (classified, never contacted).
 *
 *   tsx bench/hook.ts [--runs N] [--dir DIR_WITH_BUNDLES]   (default: hooks/dist)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const runs = Number(option('--runs', '30'));
const dir = resolve(option('--dir', join(root, 'hooks', 'dist')));
const hook = join(dir, process.env.HOOK_ENTRY ?? 'pre-tool-use.cjs');
if (!existsSync(hook) || !existsSync(join(dir, 'pre-tool-use-core.mjs'))) {
  console.error(`bench/hook: ${hook} (and pre-tool-use-core.mjs beside it) not found; run \`npm run build\` first`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'sendgate-bench-'));
const home = join(work, 'home');
mkdirSync(home, { recursive: true });
const env = { PATH: process.env.PATH ?? '', HOME: home, SENDGATE_HOME: join(work, 'state') };
const input = (command: string) => JSON.stringify({ session_id: 'bench', transcript_path: join(work, 't.jsonl'), cwd: work, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command, description: 'bench' }, tool_use_id: 'toolu_bench' });
const sendScript = join(root, 'skills', 'send', 'scripts', 'send.mjs');

const series: Array<{ name: string; argv: string[]; stdin: string; expect: (out: string, code: number | null) => boolean }> = [
  { name: 'node -e 0', argv: ['-e', '0'], stdin: '', expect: (_o, c) => c === 0 },
  { name: 'hook: benign Bash (git status && npm test)', argv: [hook], stdin: input('git status && npm test'), expect: (o, c) => c === 0 && o === '' },
  { name: 'hook: send invocation (ask + token)', argv: [hook], stdin: input(`node "${sendScript}" --destination https://93.184.215.14/hook --protocol http --message "build passed"`), expect: (o, c) => c === 0 && o.includes('"ask"') },
  { name: 'hook: egress denied (curl 10.0.0.1)', argv: [hook], stdin: input('curl -s http://10.0.0.1/'), expect: (o, c) => c === 0 && o.includes('"deny"') },
];

const times = series.map(() => [] as number[]);
for (let i = 0; i < runs + 2; i++) {
  series.forEach((s, index) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, s.argv, { input: s.stdin, env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (!s.expect(result.stdout, result.status)) {
      console.error(`bench/hook: unexpected result for "${s.name}": exit ${result.status}\n${result.stdout}\n${result.stderr}`);
      process.exit(1);
    }
    if (i >= 2) times[index]!.push(ms); // two warm-up rounds
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const base = median(times[0]!);
console.log(`PreToolUse hook wall time, median of ${runs} runs (node ${process.version}, ${dir})`);
for (const [index, s] of series.entries()) {
  const m = median(times[index]!);
  console.log(`  ${s.name.padEnd(46)} ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}x node -e 0`);
}
const benignRatio = median(times[1]!) / base;
console.log(`benign ratio ${benignRatio.toFixed(2)} (target <= 1.30): ${benignRatio <= 1.3 ? 'ok' : 'OVER TARGET'}`);
if (args.includes('--check') && benignRatio > 1.3) process.exit(1);
