/**
 * Runs inside a loopback-only network namespace (see claude.ts): starts the mock Messages API on
 * 127.0.0.1, runs the real `claude -p` against it, and writes what happened to a JSON file.
 * Nothing here can reach any address but loopback, whatever the CLI or a hook tries.
 *
 *   tsx netns-runner.ts JOB.json     (JOB: see RunnerJob; the result goes to job.resultFile)
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { startMockAnthropic, type ScriptStep } from './mock-anthropic.ts';

export interface RunnerJob {
  claude: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  steps: ScriptStep[];
  timeoutMs: number;
  resultFile: string;
  /** Text written to claude's stdin (none: stdin is closed). */
  stdin?: string;
}

export interface RunnerResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  requests: Array<{ method: string; path: string; body: unknown }>;
  toolResults: Array<{ tool_use_id: string; is_error: boolean; text: string }>;
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as RunnerJob;
  const mock = await startMockAnthropic(job.steps);
  const env = { ...job.env, ANTHROPIC_BASE_URL: mock.url };
  const child = spawn(job.claude, job.args, { cwd: job.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(job.stdin ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, job.timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
  clearTimeout(timer);
  const result: RunnerResult = { exitCode, signal, timedOut, stdout, stderr, requests: mock.requests, toolResults: mock.toolResults() };
  await mock.close();
  writeFileSync(job.resultFile, JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
