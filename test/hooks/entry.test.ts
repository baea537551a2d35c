/**
 * The hook entry points as processes (from source, through tsx): exit codes and output as Claude
 * Code reads them. Fail-closed paths end in exit 2 with the reason on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const work = mkdtempSync(join(tmpdir(), 'sendgate-entry-'));

function run(entry: string, stdin: string, env: Record<string, string> = {}) {
  return spawnSync(tsx, [join(root, 'hooks', entry)], { input: stdin, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: work, SENDGATE_HOME: join(work, 'state'), ...env }, timeout: 30_000 });
}
const bash = (command: string) => JSON.stringify({ session_id: 's', transcript_path: null, cwd: work, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: 'toolu_1' });

describe('hook entry points', () => {
  it('says nothing and exits 0 for a benign command', () => {
    const result = run('pre-tool-use.ts', bash('git status'));
    expect([result.status, result.stdout]).toEqual([0, '']);
  });

  it('prints a JSON deny for internal egress', () => {
    const result = run('pre-tool-use.ts', bash('curl http://10.0.0.1/'));
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'deny' });
    expect(output.hookSpecificOutput.permissionDecisionReason).toMatch(/NETWORK_INTERNAL/);
  });

  it.each([
    ['malformed stdin', '{"tool_name": ', {}],
    ['no tool_input', JSON.stringify({ tool_name: 'Bash' }), {}],
    ['an unreadable policy', bash('curl https://example.com/'), { SENDGATE_POLICY: join(work, 'missing.yaml') }],
  ])('blocks with exit 2 on %s', (_name, stdin, env) => {
    const result = run('pre-tool-use.ts', stdin, env as Record<string, string>);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/fail closed/);
  });

  it('PostToolUse never blocks', () => {
    expect(run('post-tool-use.ts', 'not json').status).toBe(1);
    expect(run('post-tool-use.ts', JSON.stringify({ hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_response: {} })).status).toBe(0);
  });
});
