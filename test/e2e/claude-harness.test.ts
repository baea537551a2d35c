/**
 * Proves the real-client harness itself with a trivial shell hook that denies `rm`: the CLI runs
 * offline against the mock Messages API inside a loopback-only namespace, runs the scripted tool
 * calls, reports hook events, and the hook's deny reason reaches the model as the tool_result.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canIsolateNetwork, hookEvents, runClaude, streamToolResults } from './support/claude.ts';
import { ensureE2ETools, type E2ETools } from './support/tools.ts';

const isolated = canIsolateNetwork();

describe.skipIf(!isolated)('real-client harness (claude -p against the mock Messages API)', () => {
  let tools: E2ETools;
  let dir: string;
  let settings: Record<string, unknown>;

  beforeAll(() => {
    tools = ensureE2ETools();
    dir = mkdtempSync(join(tmpdir(), 'sendgate-harness-'));
    const hook = join(dir, 'deny-rm.sh');
    writeFileSync(
      hook,
      `#!/bin/sh
input=$(cat)
case "$input" in
  *'"command":"rm '*) printf '%s' '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"HARNESS_DENY: rm is not allowed here"}}';;
esac
exit 0
`,
    );
    chmodSync(hook, 0o755);
    settings = { permissions: { allow: ['Bash'] }, hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: hook }] }] } };
  }, 600_000);

  it('delivers a hook deny reason to the model as the tool_result', async () => {
    const run = await runClaude({ tools, cwd: dir, prompt: 'clean up', steps: [{ tool: 'Bash', input: { command: 'rm -rf build', description: 'remove build' } }], settings });
    expect(run.exitCode).toBe(0);
    expect(streamToolResults(run.events)).toEqual([{ tool_use_id: 'toolu_mock_01', is_error: true, text: expect.stringContaining('HARNESS_DENY: rm is not allowed here') }]);
    expect(run.toolResults[0]?.text).toContain('HARNESS_DENY');
    expect(hookEvents(run.events, 'PreToolUse').map((event) => event.subtype)).toEqual(['hook_started', 'hook_response']);
    const final = run.events.find((event) => event.type === 'result') as { result?: string } | undefined;
    expect(final?.result).toContain('MOCK_DONE');
  });

  it('runs an allowed command and returns its output', async () => {
    const run = await runClaude({ tools, cwd: dir, prompt: 'say hi', steps: [{ tool: 'Bash', input: { command: 'echo harness-$((40+2))', description: 'echo' } }], settings });
    expect(streamToolResults(run.events)).toEqual([{ tool_use_id: 'toolu_mock_01', is_error: false, text: 'harness-42' }]);
  });

  it('cannot reach anything but loopback', async () => {
    const run = await runClaude({ tools, cwd: dir, prompt: 'probe', steps: [{ tool: 'Bash', input: { command: 'ip -o link | wc -l; ip -o addr show scope global | wc -l', description: 'probe' } }], settings });
    expect(streamToolResults(run.events)[0]?.text.split(/\s+/).filter(Boolean)).toEqual(['1', '0']);
  });
});
