import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/log.ts';
import { policySchema } from '../../src/config/schema.ts';
import { recordPostToolUse } from '../../src/hooks/post-tool-use.ts';
import type { HookInput } from '../../src/hooks/types.ts';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'sendgate-post-'));
  const state = join(root, 'state');
  const policy = policySchema.parse({ version: 1 });
  const ctx = { env: { HOME: root, SENDGATE_HOME: state }, loadPolicy: () => policy };
  const audit = join(state, 'audit', 'sendgate.jsonl');
  const input = (tool_name: string, tool_input: Record<string, unknown>, tool_response: unknown, tool_use_id = 'toolu_1', hook_event_name = 'PostToolUse'): HookInput => ({
    session_id: 'sess', transcript_path: null, cwd: root, permission_mode: 'default', hook_event_name, tool_name, tool_input, tool_use_id, tool_response,
  });
  const records = () => readFileSync(audit, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
  return { ctx, input, records, audit };
}

describe('PostToolUse', () => {
  it('records a sendgate run once per tool_use_id, with the delivery status', async () => {
    const t = setup();
    const run = t.input('Bash', { command: 'node /s/send.mjs --destination https://hooks.slack.com/x --protocol http --message hi' }, { stdout: 'sent: true\ndelivery:\n  protocol: http\n  status: sent\naudit_id: au_1\n', stderr: '', interrupted: false });
    expect(await recordPostToolUse(run, t.ctx)).toBe('recorded');
    expect(await recordPostToolUse(run, t.ctx)).toBe('duplicate');
    const [record] = t.records();
    expect(record).toMatchObject({ skill: 'send', action: 'tool_outcome', tool_use_id: 'toolu_1', session_id: 'sess', result: 'sent', destination: 'https://hooks.slack.com/x' });
    expect(record!.detail).toMatchObject({ tool: 'Bash', sender_audit_id: 'au_1' });
    expect(verifyAudit(t.audit).ok).toBe(true);
  });

  it('records egress commands, WebFetch and failures; ignores everything else', async () => {
    const t = setup();
    expect(await recordPostToolUse(t.input('Bash', { command: 'git status' }, { stdout: '', stderr: '' }, 'toolu_a'), t.ctx)).toBe('not_relevant');
    expect(await recordPostToolUse(t.input('Read', { file_path: '/x' }, {}, 'toolu_b'), t.ctx)).toBe('not_relevant');
    expect(await recordPostToolUse(t.input('Bash', { command: 'curl -s https://example.com/?token=abcdefghijklmnopqrstuvwxyz012345' }, { stdout: 'ok', stderr: '', interrupted: false }, 'toolu_c'), t.ctx)).toBe('recorded');
    expect(await recordPostToolUse(t.input('WebFetch', { url: 'https://example.com/docs', prompt: 'x' }, { result: 'x' }, 'toolu_d'), t.ctx)).toBe('recorded');
    expect(await recordPostToolUse(t.input('Bash', { command: 'curl https://example.com/' }, 'exit code 7', 'toolu_e', 'PostToolUseFailure'), t.ctx)).toBe('recorded');
    const records = t.records();
    expect(records.map((r) => [r.skill, r.result, r.destination])).toEqual([
      ['bash_egress', 'completed', 'curl -> example.com:443'],
      ['bash_egress', 'completed', 'WebFetch -> example.com'],
      ['bash_egress', 'failed', 'curl -> example.com:443'],
    ]);
    // Previews are masked: a long token never lands in the log whole.
    expect(readFileSync(t.audit, 'utf8')).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
    expect(verifyAudit(t.audit).ok).toBe(true);
  });

  it('deduplicates concurrent hooks for the same call', async () => {
    const t = setup();
    const run = t.input('Bash', { command: 'curl https://example.com/' }, { stdout: '', stderr: '' }, 'toolu_same');
    const results = await Promise.all(Array.from({ length: 8 }, () => recordPostToolUse(run, t.ctx)));
    expect(results.filter((r) => r === 'recorded')).toHaveLength(1);
    expect(t.records()).toHaveLength(1);
  });
});
