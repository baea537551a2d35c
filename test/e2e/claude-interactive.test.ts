/**
 * The real human-approval path, end to end, in the interactive Claude Code client.
 *
 * The real `claude` TUI runs in tmux (support/interactive.ts) against the local Messages API mock,
 * with sendgate's plugin hooks (hooks/hooks.json, pointing at hooks/dist bundles built from the
 * current sources into a temporary root) and `permissions.allow: ["Bash"]`, so any prompt that
 * appears is the hook's own "ask". The scripted model runs the bundled send.mjs against a recording
 * receiver on 127.0.0.1; the policy opens 127.0.0.1/32 and requires approval. The test reads the
 * screen, answers the prompt like a human (the key found on the screen), and checks what reached
 * the receiver, the model, the approvals and the audit log.
 *
 * Everything (tmux, claude, its hooks, the commands it runs, the mock and the receiver) lives in a
 * loopback-only network namespace; without one the suite is skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAll } from '../../scripts/build.ts';
import { canIsolateNetwork } from './support/claude.ts';
import { dialogText, hasTmux, runInteractive, squash, type Action, type InteractiveResult } from './support/interactive.ts';
import { ensureE2ETools, REPO_ROOT, type E2ETools } from './support/tools.ts';

const isolated = canIsolateNetwork();
if (!isolated) console.warn('claude-interactive e2e: skipped — cannot create a loopback-only network namespace (unshare -n needs root or unprivileged user namespaces)');

const MESSAGE = '{"text":"deploy done"}';
const PROMPT_TEXT = 'Do you want to proceed?';
const HOOK_LINE = 'Hook PreToolUse:Bash requires confirmation for this command:';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!isolated)('interactive Claude Code: the human approves a send in Claude Code\'s own prompt (real TUI in tmux, offline)', () => {
  let tools: E2ETools;
  let buildRoot: string;
  let sendScript: string;
  let project: string;
  let policyFile: string;
  let settings: Record<string, unknown>;
  const temporary: string[] = [];

  beforeAll(async () => {
    if (!hasTmux()) throw new Error('tmux is required for the interactive Claude Code tests (apt-get install tmux; CI lists it in .ci/apt-packages.d/claude.txt)');
    tools = ensureE2ETools();
    const root = mkdtempSync(join(tmpdir(), 'sendgate-tui-suite-'));
    temporary.push(root);
    // Bundles from the current sources, without touching the working tree.
    buildRoot = join(root, 'build');
    await buildAll(buildRoot);
    sendScript = join(buildRoot, 'skills', 'send', 'scripts', 'send.mjs');
    project = join(root, 'project');
    mkdirSync(project, { recursive: true });
    policyFile = join(root, 'policy.yaml');
    writeFileSync(policyFile, ['version: 1', 'approval:', '  required: true', 'network:', '  allow_private: ["127.0.0.1/32"]', ''].join('\n'));
    // The plugin's own hook registration, with its root at the fresh build.
    const plugin = JSON.parse(readFileSync(join(REPO_ROOT, 'hooks', 'hooks.json'), 'utf8')) as { hooks: Record<string, unknown> };
    const hooks = JSON.parse(JSON.stringify(plugin.hooks).replaceAll('${CLAUDE_PLUGIN_ROOT}', buildRoot)) as Record<string, unknown>;
    // Bash is allowed outright: a prompt can only come from the hook's "ask".
    settings = { permissions: { allow: ['Bash'] }, hooks };
  }, 600_000);

  afterAll(() => {
    if (process.env.SENDGATE_E2E_KEEP) return;
    for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
  });

  const sendCommand = () => `node "${sendScript}" --destination {{RECEIVER}}/hook --protocol http --message '${MESSAGE}'`;

  async function scenario(actions: Action[]) {
    const state = mkdtempSync(join(tmpdir(), 'sendgate-tui-state-'));
    temporary.push(state);
    const result = await runInteractive({
      tools,
      cwd: project,
      prompt: 'Tell the deploy webhook that the deploy is done.',
      steps: [{ tool: 'Bash', input: { command: sendCommand(), description: 'Notify the deploy webhook' } }],
      actions,
      settings,
      env: { SENDGATE_HOME: state, SENDGATE_POLICY: policyFile },
    });
    const audit = (): Array<Record<string, any>> => {
      const path = join(state, 'audit', 'sendgate.jsonl');
      return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>) : [];
    };
    const approvals = () => JSON.parse(readFileSync(join(state, 'approvals.json'), 'utf8')) as { pending: Record<string, { approved_at: string | null }>; consumed: Record<string, string> };
    return { result, state, audit, approvals };
  }

  function expectRanCleanly(result: InteractiveResult): void {
    if (result.error) throw new Error(`${result.error}\n--- last screen ---\n${result.screens.final ?? '(none)'}\n${result.screens.driverOutput ?? ''}`);
    // claude and the driver shared one namespace, with loopback only, and it was not the test's.
    expect(result.netns.interfaces).toEqual(['lo']);
    expect(result.netns.pane).toBe(result.netns.driver);
    expect(result.netns.driver).not.toBe(result.netns.host);
  }

  /** Checks the hook's prompt on screen and returns the approval id the reason and the token name. */
  function expectHookPrompt(result: InteractiveResult): { approvalId: string; token: string } {
    const dialog = dialogText(result.screens.prompt ?? '');
    const flat = squash(dialog);
    const hook = `${result.receiverUrl}/hook`;
    expect(dialog, result.screens.prompt).toContain(HOOK_LINE);
    // What, where, why.
    expect(flat).toContain(squash(`sendgate: approve this send? HTTP to ${hook} — 22 bytes: "${MESSAGE}".`));
    expect(flat).toContain(squash('Checks passed:'));
    expect(flat).toContain(squash("Why ask: the policy requires a human's approval (approval.required)."));
    const reasonId = /\(approval (ap_[a-z0-9]+), valid until /.exec(dialog)?.[1];
    expect(reasonId).toBeTruthy();
    // The command as updatedInput rewrote it: the model's command plus a token for this approval.
    const rewritten = new RegExp(
      `${escapeRegExp(squash(`node "${sendScript}"`))}--approval-token(sg1\\.(ap_[a-z0-9]+)\\.\\d+\\.[A-Za-z0-9_-]+)${escapeRegExp(squash(`--destination ${hook} --protocol http --message '${MESSAGE}'`))}`,
    ).exec(flat);
    expect(rewritten, dialog).not.toBeNull();
    expect(rewritten![2]).toBe(reasonId);
    return { approvalId: reasonId!, token: rewritten![1]! };
  }

  it('Yes: the rewritten command runs, the receiver gets exactly one POST, the model reads status: sent, the audit log has the delivery', async () => {
    const { result, state, audit, approvals } = await scenario([
      { kind: 'screen', text: PROMPT_TEXT, label: 'prompt' },
      { kind: 'answer', choice: 'Yes', label: 'answered' },
      // The request that carries the tool result is the model's last turn (the mock answers it with text).
      { kind: 'toolResults', count: 1 },
      // The scripted answer quotes the whole result, taller than the pane: let it render, then keep the screen.
      { kind: 'idle', ms: 1_500 },
      { kind: 'snapshot', label: 'done' },
    ]);
    expectRanCleanly(result);
    const { approvalId, token } = expectHookPrompt(result);
    // Nothing had gone out while the prompt was waiting for the human.
    expect(result.answers).toEqual([expect.objectContaining({ choice: 'Yes', key: expect.stringMatching(/^(Enter|1)$/), receivedBefore: 0 })]);

    // The receiver: exactly one POST with the message.
    expect(result.received).toHaveLength(1);
    expect(result.received[0]).toMatchObject({ method: 'POST', path: '/hook', body: MESSAGE });

    // What the model got back.
    expect(result.toolResults).toHaveLength(1);
    const [toolResult] = result.toolResults;
    expect(toolResult).toMatchObject({ tool_use_id: 'toolu_mock_01', is_error: false });
    expect(toolResult!.text).toMatch(/^\s*status: sent$/m);
    expect(toolResult!.text).toContain(`request_id: ${approvalId}`);
    expect(toolResult!.text).toMatch(/^\s*status: consumed$/m);

    // The approval is used up, and the log holds the whole story.
    expect(approvals().consumed[approvalId]).toBeTruthy();
    const records = audit();
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'hook_decision', result: 'asked', approval_id: approvalId, tool_use_id: 'toolu_mock_01' }),
        expect.objectContaining({ action: 'delivery', result: 'sent', approval_id: approvalId, destination: `${result.receiverUrl}/hook` }),
        expect.objectContaining({ action: 'tool_outcome', tool_use_id: 'toolu_mock_01' }),
      ]),
    );
    const deliveries = records.filter((record) => record.action === 'delivery');
    expect(deliveries).toHaveLength(1);
    expect(result.received[0]!.headers['idempotency-key']).toBe(`sendgate-${deliveries[0]!.checkpoint_ref}`);
    const verify = spawnSync(process.execPath, [join(buildRoot, 'skills', 'send', 'scripts', 'audit.mjs'), 'verify'], { env: { PATH: process.env.PATH ?? '', SENDGATE_HOME: state, SENDGATE_POLICY: policyFile }, encoding: 'utf8' });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);

    // The token was on the human's screen only: the model's transcript keeps its own command.
    for (const request of result.requests) expect(JSON.stringify(request.body)).not.toContain(token);
  }, 240_000);

  it('No: nothing is sent, the model reads a rejection, and the approval stays unused', async () => {
    const { result, state, audit, approvals } = await scenario([
      { kind: 'screen', text: PROMPT_TEXT, label: 'prompt' },
      { kind: 'answer', choice: 'No', label: 'answered' },
      { kind: 'screen', text: 'Interrupted', label: 'rejected' },
      { kind: 'idle', ms: 1_500 },
      // The client waits for the user after a No; the next message carries the rejection to the model.
      { kind: 'type', text: 'Do not send it.' },
      { kind: 'toolResults', count: 1 },
      { kind: 'screen', text: 'MOCK_DONE', label: 'done' },
    ]);
    expectRanCleanly(result);
    const { approvalId, token } = expectHookPrompt(result);
    expect(result.answers).toEqual([expect.objectContaining({ choice: 'No', key: expect.stringMatching(/^(Enter|2)$/), receivedBefore: 0 })]);
    for (const request of result.requests) expect(JSON.stringify(request.body)).not.toContain(token);

    expect(result.received).toEqual([]);
    expect(result.toolResults).toHaveLength(1);
    expect(result.toolResults[0]).toMatchObject({ tool_use_id: 'toolu_mock_01', is_error: true });
    expect(result.toolResults[0]!.text).toMatch(/doesn't want to proceed|rejected/);

    // No approval consumed: the request is still open, and its token would still pass.
    const state1 = approvals();
    expect(state1.consumed).toEqual({});
    expect(state1.pending[approvalId]?.approved_at ?? null).toBeNull();
    const records = audit();
    expect(records).toEqual([expect.objectContaining({ action: 'hook_decision', result: 'asked', approval_id: approvalId })]);
    // A dry run (sends nothing, consumes nothing; the destination is a loopback literal) reads the token as unused.
    const dryRun = spawnSync(process.execPath, [sendScript, '--approval-token', token, '--destination', `${result.receiverUrl}/hook`, '--protocol', 'http', '--message', MESSAGE, '--dry-run', '--format', 'json'], {
      env: { PATH: process.env.PATH ?? '', HOME: state, SENDGATE_HOME: state, SENDGATE_POLICY: policyFile },
      encoding: 'utf8',
    });
    expect(dryRun.status, dryRun.stderr).toBe(0);
    const output = JSON.parse(dryRun.stdout) as { delivery: { status: string }; approval: { status: string } };
    expect(output.delivery.status).toBe('dry_run');
    expect(output.approval.status).toBe('valid');
    expect(approvals().consumed).toEqual({});
  }, 240_000);
});
