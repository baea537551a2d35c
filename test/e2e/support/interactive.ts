/**
 * Drives the real, interactive Claude Code client (the TUI, not `claude -p`) in tmux, offline,
 * inside a loopback-only network namespace, so a test can answer Claude Code's own permission
 * prompt the way a human does.
 *
 * Two halves in one file:
 *
 *   runInteractive(options)   (host side, called by the test) writes a job file, starts
 *       unshare -n bash -c 'ip link set lo up; exec tsx interactive.ts JOB.json'
 *     with a hard deadline, then reads the result JSON. Whatever happens to the driver it then
 *     kills, by the pids the driver recorded, the tmux server and the claude pane it started.
 *
 *   the driver (this file run as a script, inside the namespace) refuses to run when it sees any
 *     interface but loopback, starts the mock Messages API (mock-anthropic.ts) and a recording
 *     webhook receiver on 127.0.0.1, starts a private tmux server (its own socket in the job's
 *     work directory, never the user's default server, which could live in another namespace)
 *     with `claude <prompt>` in a 200x50 pane, proves the pane is in its own namespace, plays the
 *     job's actions (wait for screen text, answer the permission prompt, type, wait for the
 *     model's tool results), and writes everything to the result file. Every wait has a deadline;
 *     tmux, claude and the servers are always stopped.
 *
 * HOME is a fresh directory whose .claude.json marks onboarding done, the project trusted and the
 * fake API key approved (DESIGN.md, "Claude Code facts"); the environment is claudeEnv()'s.
 * Scripted tool inputs may contain {{RECEIVER}}: it becomes the receiver's http://127.0.0.1:PORT.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudeEnv, FAKE_API_KEY } from './claude.ts';
import { startMockAnthropic, type MockAnthropic, type RecordedRequest, type ScriptStep } from './mock-anthropic.ts';
import { REPO_ROOT, type E2ETools } from './tools.ts';

const DRIVER = fileURLToPath(import.meta.url);
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const PLACEHOLDER = '{{RECEIVER}}';

/** What the driver does once claude is up, in order. Every wait has a deadline (default 30 s). */
export type Action =
  /**
   * Wait until `text` appears in the pane, scrollback included (long output scrolls it off the
   * visible screen); the visible screen is kept under `label`.
   */
  | { kind: 'screen'; text: string; label: string; timeoutMs?: number }
  /** Answer the permission prompt on screen: the key is found on the screen (Enter on the highlighted option, else its digit). */
  | { kind: 'answer'; choice: 'Yes' | 'No'; label: string }
  /** Keep the visible screen under `label` now. */
  | { kind: 'snapshot'; label: string }
  /** Type text into the input box and press Enter. */
  | { kind: 'type'; text: string }
  /** Wait until the mock has received `count` tool results from the client. */
  | { kind: 'toolResults'; count: number; timeoutMs?: number }
  /** Wait (to see that nothing more happens). */
  | { kind: 'idle'; ms: number };

export interface InteractiveOptions {
  tools: E2ETools;
  /** The project directory claude starts in (trusted in .claude.json). */
  cwd: string;
  /** The first user message (claude's positional prompt). */
  prompt: string;
  steps: ScriptStep[];
  actions: Action[];
  /** Written to a file and passed with --settings. */
  settings: Record<string, unknown>;
  /** Extra environment for claude (and so for its hooks and the commands it runs). */
  env?: Record<string, string>;
  /** Hard deadline for the whole run (default 120 s). */
  timeoutMs?: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface InteractiveResult {
  /** Set when an action failed or timed out (the screens show how far it got). */
  error: string | null;
  /** The receiver's base URL, http://127.0.0.1:PORT (what {{RECEIVER}} became). */
  receiverUrl: string;
  /** Screens captured by `screen` actions, and `final` (with scrollback) at the end. */
  screens: Record<string, string>;
  /** The key each `answer` action sent, the options it saw, and how many requests the receiver had by then. */
  answers: Array<{ label: string; choice: string; key: string; options: PromptOption[]; receivedBefore: number }>;
  /** Requests the recording receiver got. */
  received: ReceivedRequest[];
  /** Requests the mock Messages API got. */
  requests: RecordedRequest[];
  toolResults: Array<{ tool_use_id: string; is_error: boolean; text: string }>;
  /** Network namespace ids: the driver's, the claude pane's, and the test process's. */
  netns: { driver: string; pane: string | null; host: string; interfaces: string[] };
  /** HOME and the work directory (removed after a run without error unless SENDGATE_E2E_KEEP is set). */
  home: string;
  work: string;
}

export interface PromptOption {
  digit: string;
  label: string;
  selected: boolean;
}

interface DriverJob {
  claude: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  steps: ScriptStep[];
  actions: Action[];
  deadline: number;
  work: string;
  resultFile: string;
  pidsFile: string;
  socket: string;
  session: string;
}

// ----------------------------------------------------------------------------------------------
// Host side

/** HOME for the interactive client: onboarding done, the project trusted, the fake key approved. */
export function interactiveHome(home: string, project: string, apiKey = FAKE_API_KEY): void {
  mkdirSync(home, { recursive: true });
  const config = {
    hasCompletedOnboarding: true,
    projects: { [project]: { hasTrustDialogAccepted: true, allowedTools: [] } },
    customApiKeyResponses: { approved: [apiKey.slice(-20)], rejected: [] },
  };
  writeFileSync(join(home, '.claude.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** True when tmux can be run here. */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export async function runInteractive(options: InteractiveOptions): Promise<InteractiveResult> {
  const work = mkdtempSync(join(tmpdir(), 'sendgate-tui-'));
  const home = join(work, 'home');
  interactiveHome(home, options.cwd);
  const settingsFile = join(work, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(options.settings, null, 2));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const job: DriverJob = {
    claude: options.tools.claude,
    args: ['--settings', settingsFile, '--model', 'claude-sonnet-4-5', options.prompt],
    cwd: options.cwd,
    // The TUI needs a real terminal type; tmux panes are "screen" by default.
    env: { ...claudeEnv(home, options.env), TERM: 'screen' },
    steps: options.steps,
    actions: options.actions,
    deadline: Date.now() + timeoutMs,
    work,
    resultFile: join(work, 'result.json'),
    pidsFile: join(work, 'pids.json'),
    socket: join(work, 'tmux.sock'),
    session: `sendgate-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  };
  const jobFile = join(work, 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));

  const child = spawn('unshare', ['-n', 'bash', '-c', 'ip link set lo up && exec "$0" "$1" "$2"', TSX, DRIVER, jobFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let killed = false;
  // The driver bounds itself; this is the backstop (its cleanup gets 15 s past the deadline).
  const timer = setTimeout(() => {
    killed = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, timeoutMs + 15_000);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearTimeout(timer);
  cleanupAfterDriver(job);

  if (!existsSync(job.resultFile)) {
    throw new Error(`the interactive driver ${killed ? 'was killed at its deadline' : `exited ${code}`} without a result:\n${output}`);
  }
  const result = JSON.parse(readFileSync(job.resultFile, 'utf8')) as InteractiveResult;
  result.netns.host = readlinkSync('/proc/self/ns/net');
  if (output.trim()) result.screens.driverOutput = output;
  // Keep the work directory (HOME with claude's own logs, the job, the tmux config) only to debug a failure.
  if (!result.error && !process.env.SENDGATE_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  return result;
}

/** Stops what the driver started, by the pids it recorded (a no-op when it cleaned up itself). */
function cleanupAfterDriver(job: DriverJob): void {
  try {
    execFileSync('tmux', ['-S', job.socket, 'kill-server'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    /* no server left: the normal case */
  }
  let pids: { tmuxServer?: number; pane?: number } = {};
  try {
    pids = JSON.parse(readFileSync(job.pidsFile, 'utf8')) as typeof pids;
  } catch {
    return;
  }
  for (const pid of [pids.pane, pids.tmuxServer]) {
    if (pid && isOurs(pid, job)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Only a process that is still the tmux server or claude we started (pids get reused). */
function isOurs(pid: number, job: DriverJob): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(job.socket) || cmdline.includes(job.claude) || cmdline.includes(job.session);
  } catch {
    return false;
  }
}

// ----------------------------------------------------------------------------------------------
// Screen reading (used by the driver and by tests)

/** The numbered options of the permission prompt on screen (after the last "Do you want to proceed?"). */
export function promptOptions(screen: string): PromptOption[] {
  const lines = screen.split('\n');
  let start = -1;
  lines.forEach((line, index) => {
    if (/Do you want to proceed\?/.test(line)) start = index;
  });
  if (start < 0) return [];
  const options: PromptOption[] = [];
  for (const line of lines.slice(start + 1)) {
    const match = /^\s*([❯›>])?\s*(\d)\.\s+(\S.*?)\s*$/.exec(line);
    if (match) options.push({ digit: match[2]!, label: match[3]!, selected: Boolean(match[1]) });
    else if (options.length > 0 && line.trim() === '') break;
  }
  return options;
}

/** The key that picks `choice`: Enter when it is the highlighted option, else its digit. */
export function keyFor(options: PromptOption[], choice: 'Yes' | 'No'): string | null {
  const option = options.find((o) => o.label === choice || o.label.startsWith(`${choice},`) || o.label.startsWith(`${choice} `));
  if (!option) return null;
  return option.selected ? 'Enter' : option.digit;
}

/**
 * The permission dialog's text with the TUI's box drawing and line wrapping taken out: the lines
 * from `header` to "Do you want to proceed?", each stripped of the "│" gutter, joined by spaces.
 */
export function dialogText(screen: string, header = 'Bash command'): string {
  const lines = screen.split('\n');
  let end = lines.length - 1;
  while (end >= 0 && !/Do you want to proceed\?/.test(lines[end]!)) end--;
  if (end < 0) return '';
  let start = end;
  while (start > 0 && !lines[start]!.includes(header)) start--;
  return lines
    .slice(start, end)
    .filter((line) => !/^[\s╌─]*$/.test(line))
    .map((line) => line.replace(/^\s*│\s?/, '').trim())
    .join(' ');
}

/** For comparing text the TUI may have wrapped anywhere. */
export const squash = (text: string): string => text.replace(/\s+/g, '');

// ----------------------------------------------------------------------------------------------
// Driver (inside the namespace)

async function driverMain(jobFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as DriverJob;
  const interfaces = Object.keys(networkInterfaces());
  if (interfaces.some((name) => name !== 'lo')) {
    process.stderr.write(`interactive driver: refusing to run outside a loopback-only namespace (interfaces: ${interfaces.join(', ')})\n`);
    process.exit(99);
  }

  const received: ReceivedRequest[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const steps = JSON.parse(JSON.stringify(job.steps).replaceAll(PLACEHOLDER, receiverUrl)) as ScriptStep[];
  const mock: MockAnthropic = await startMockAnthropic(steps);

  const result: InteractiveResult = {
    error: null,
    receiverUrl,
    screens: {},
    answers: [],
    received,
    requests: mock.requests,
    toolResults: [],
    netns: { driver: readlinkSync('/proc/self/ns/net'), pane: null, host: '', interfaces },
    home: job.env.HOME ?? '',
    work: job.work,
  };

  const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', job.socket, ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const screen = (history = false): string => tmux('capture-pane', '-p', '-t', job.session, ...(history ? ['-S', '-'] : []));
  const paneDead = (): boolean => tmux('display-message', '-p', '-t', job.session, '#{pane_dead}').trim() === '1';
  const pids: { tmuxServer?: number; pane?: number } = {};

  try {
    // A private server: its own socket and no user configuration; keep the pane when claude exits.
    const conf = join(job.work, 'tmux.conf');
    writeFileSync(conf, 'set -g remain-on-exit on\nset -g history-limit 10000\n');
    const env = { ...job.env, ANTHROPIC_BASE_URL: mock.url };
    const command = ['/usr/bin/env', '-i', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), job.claude, ...job.args];
    execFileSync('tmux', ['-S', job.socket, '-f', conf, 'new-session', '-d', '-s', job.session, '-x', '200', '-y', '50', '-c', job.cwd, '--', ...command], {
      timeout: 10_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: job.env.HOME ?? job.work, TERM: 'screen', LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pids.tmuxServer = Number(tmux('display-message', '-p', '-t', job.session, '#{pid}').trim());
    pids.pane = Number(tmux('display-message', '-p', '-t', job.session, '#{pane_pid}').trim());
    writeFileSync(job.pidsFile, JSON.stringify(pids));
    result.netns.pane = readlinkSync(`/proc/${pids.pane}/ns/net`);
    if (result.netns.pane !== result.netns.driver) throw new Error(`the claude pane runs in another network namespace (${result.netns.pane}, driver ${result.netns.driver}): stopping`);

    const waitFor = async (what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> => {
      const until = Math.min(Date.now() + timeoutMs, job.deadline);
      for (;;) {
        if (check()) return;
        if (paneDead()) throw new Error(`claude exited while waiting for ${what}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await sleep(250);
      }
    };

    for (const action of job.actions) {
      switch (action.kind) {
        case 'screen': {
          await waitFor(`"${action.text}" on screen`, () => screen(true).includes(action.text), action.timeoutMs);
          // Let the frame finish drawing, then keep it.
          await sleep(300);
          result.screens[action.label] = screen();
          break;
        }
        case 'answer': {
          const now = screen();
          const options = promptOptions(now);
          const key = keyFor(options, action.choice);
          result.screens[action.label] = now;
          if (!key) throw new Error(`no "${action.choice}" option on the permission prompt (options: ${JSON.stringify(options)})`);
          result.answers.push({ label: action.label, choice: action.choice, key, options, receivedBefore: received.length });
          tmux('send-keys', '-t', job.session, key);
          break;
        }
        case 'snapshot':
          result.screens[action.label] = screen();
          break;
        case 'type':
          tmux('send-keys', '-t', job.session, '-l', action.text);
          await sleep(300);
          tmux('send-keys', '-t', job.session, 'Enter');
          break;
        case 'toolResults':
          await waitFor(`${action.count} tool result(s) at the mock`, () => mock.toolResults().length >= action.count, action.timeoutMs);
          break;
        case 'idle':
          await sleep(Math.min(action.ms, Math.max(0, job.deadline - Date.now())));
          break;
      }
    }
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    try {
      result.screens.final = screen(true);
    } catch {
      /* no pane */
    }
    result.toolResults = mock.toolResults();
    try {
      tmux('kill-server');
    } catch {
      /* already gone */
    }
    // claude gets SIGHUP from the server; make sure it is gone before the namespace goes.
    if (pids.pane) {
      const until = Date.now() + 3_000;
      while (Date.now() < until && alive(pids.pane)) await sleep(100);
      if (alive(pids.pane)) {
        try {
          process.kill(pids.pane, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await mock.close();
    receiver.closeAllConnections?.();
    await new Promise<void>((done) => receiver.close(() => done()));
    writeFileSync(job.resultFile, JSON.stringify(result));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

if (process.argv[1] && resolve(process.argv[1]) === DRIVER) {
  driverMain(process.argv[2]!).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
