/**
 * Drives the real Claude Code CLI headless (`claude -p --output-format stream-json --verbose
 * --include-hook-events`) against the mock Messages API, inside a fresh loopback-only network
 * namespace (`unshare -n`, lo up): the mock, the CLI, its hooks and every command the scripted
 * model runs share that namespace, so nothing can leave the machine even when a guard fails.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScriptStep } from './mock-anthropic.ts';
import type { RunnerJob, RunnerResult } from './netns-runner.ts';
import { REPO_ROOT, type E2ETools } from './tools.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** A fake key: the mock accepts anything; the CLI only checks the shape. */
export const FAKE_API_KEY = 'sk-ant-api03-sendgate-e2e-test-key-000000000000000000000000000000000000000000000000-AAAAAAAA';

export interface ClaudeRunOptions {
  tools: E2ETools;
  prompt: string;
  steps: ScriptStep[];
  /** The project directory claude runs in. */
  cwd: string;
  /** HOME for the run (a fresh temporary one when omitted). */
  home?: string;
  /** Written to a file and passed with --settings. */
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  extraArgs?: string[];
  timeoutMs?: number;
}

export interface ClaudeRun extends RunnerResult {
  events: Array<Record<string, unknown>>;
  home: string;
}

/** True when this machine can make a loopback-only network namespace (root, or unprivileged userns). */
/**
 * Can this machine make a loopback-only network namespace? Off CI the namespace tests skip with a
 * warning where it cannot; on CI (root, as .ci/run runs) a missing namespace is an error, so the
 * real-client tests can never pass by silently not running.
 */
export function canIsolateNetwork(): boolean {
  try {
    execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch (error) {
    if (process.env.CI) throw new Error(`CI must be able to run \`unshare -n\` (as root): ${(error as Error).message}`);
    console.warn('skipping: cannot create a loopback-only network namespace here (needs root and unshare)');
    return false;
  }
}

/** The environment the CLI gets: nothing from this process beyond PATH and the locale. */
export function claudeEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home,
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
    CLAUDE_CODE_SKIP_AUTH_LOGIN: '1',
    ...extra,
  };
}

export async function runClaude(options: ClaudeRunOptions): Promise<ClaudeRun> {
  const work = mkdtempSync(join(tmpdir(), 'sendgate-claude-run-'));
  const home = options.home ?? join(work, 'home');
  mkdirSync(home, { recursive: true });
  const args = ['-p', options.prompt, '--output-format', 'stream-json', '--verbose', '--include-hook-events', '--model', 'claude-sonnet-4-5'];
  if (options.settings) {
    const settingsFile = join(work, 'settings.json');
    writeFileSync(settingsFile, JSON.stringify(options.settings, null, 2));
    args.push('--settings', settingsFile);
  }
  args.push(...(options.extraArgs ?? []));
  const job: RunnerJob = {
    claude: options.tools.claude,
    args,
    cwd: options.cwd,
    env: claudeEnv(home, options.env),
    steps: options.steps,
    timeoutMs: options.timeoutMs ?? 90_000,
    resultFile: join(work, 'result.json'),
  };
  const jobFile = join(work, 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const script = 'ip link set lo up && exec "$0" "$1" "$2"';
  const child = spawn('unshare', ['-n', 'sh', '-c', script, TSX, join(HERE, 'netns-runner.ts'), jobFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', () => {});
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  let result: RunnerResult;
  try {
    result = JSON.parse(readFileSync(job.resultFile, 'utf8')) as RunnerResult;
  } catch {
    throw new Error(`the namespaced claude run failed (exit ${code}): ${stderr}`);
  }
  return { ...result, events: parseStreamJson(result.stdout), home };
}

export function parseStreamJson(text: string): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* not an event line */
    }
  }
  return events;
}

/** The tool_result blocks the CLI reported in its own stream (user messages). */
export function streamToolResults(events: Array<Record<string, unknown>>): Array<{ tool_use_id: string; is_error: boolean; text: string }> {
  const out: Array<{ tool_use_id: string; is_error: boolean; text: string }> = [];
  for (const event of events) {
    if (event.type !== 'user') continue;
    const content = (event.message as { content?: unknown })?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content as Array<Record<string, unknown>>) {
      if (block.type !== 'tool_result') continue;
      const c = block.content;
      const text = typeof c === 'string' ? c : Array.isArray(c) ? (c as Array<{ text?: string }>).map((p) => p.text ?? '').join('\n') : '';
      out.push({ tool_use_id: String(block.tool_use_id), is_error: block.is_error === true, text });
    }
  }
  return out;
}

/** Hook events (--include-hook-events) for one hook event name. */
export function hookEvents(events: Array<Record<string, unknown>>, hookEventName?: string): Array<Record<string, unknown>> {
  return events.filter((event) => event.type === 'system' && String(event.subtype ?? '').startsWith('hook') && (!hookEventName || event.hook_event === hookEventName || event.hook_event_name === hookEventName));
}
