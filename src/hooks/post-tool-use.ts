/**
 * The PostToolUse (and PostToolUseFailure) hook: appends the outcome of every sendgate invocation
 * and every egress command (Bash, WebFetch, listed MCP tools) to the audit log, once per
 * tool_use_id (a marker file created with O_EXCL makes the second record a no-op, even when Claude
 * Code runs the hook twice, e.g. from the plugin and from a skill). Nothing here can block: the
 * tool already ran.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Policy } from '../config/schema.ts';
import { detectEgress } from '../egress/detect.ts';
import { parseCommandLine } from '../egress/shell.ts';
import { stateDir } from '../state/paths.ts';
import { findInvocations } from './recognise.ts';
import type { HookInput } from './types.ts';

export interface PostToolUseContext {
  env: NodeJS.ProcessEnv;
  loadPolicy?: () => Policy;
}

export type PostToolUseResult = 'recorded' | 'duplicate' | 'not_relevant';

export async function recordPostToolUse(input: HookInput, ctx: PostToolUseContext): Promise<PostToolUseResult> {
  const subject = describe(input, ctx);
  if (!subject) return 'not_relevant';
  const policy = ctx.loadPolicy ? ctx.loadPolicy() : (await import('../config/load.ts')).loadPolicy({ env: ctx.env }).policy;
  if (subject.skill === 'bash_egress' && policy.bash_egress === 'off') return 'not_relevant';
  if (subject.skill === 'bash_egress' && input.tool_name.startsWith('mcp__') && !policy.hooks.mcp_tools.some((p) => (p.endsWith('*') ? input.tool_name.startsWith(p.slice(0, -1)) : p === input.tool_name))) return 'not_relevant';
  const dir = stateDir(ctx.env);
  if (input.tool_use_id && !claim(join(dir, 'hook-outcomes'), input.tool_use_id)) return 'duplicate';
  const [{ appendAudit, auditPath }, { preview }, { sha256Hex }] = await Promise.all([import('../audit/log.ts'), import('../audit/preview.ts'), import('../message/payload.ts')]);
  const outcome = outcomeOf(input);
  await appendAudit(auditPath(policy, dir), {
    skill: subject.skill,
    action: 'tool_outcome',
    destination: subject.destination,
    body_hash: sha256Hex(subject.text),
    body_preview: preview(subject.text),
    triggered_by: `claude-code ${input.hook_event_name} hook`,
    session_id: input.session_id,
    conversation_id: input.session_id,
    tool_use_id: input.tool_use_id,
    result: outcome.result,
    detail: { tool: input.tool_name, ...outcome.detail },
  });
  return 'recorded';
}

interface Subject {
  skill: string;
  text: string;
  destination: string | null;
}

function describe(input: HookInput, _ctx: PostToolUseContext): Subject | null {
  const tool = input.tool_name;
  if (tool === 'Bash') {
    const command = typeof input.tool_input.command === 'string' ? input.tool_input.command : '';
    const parsed = parseCommandLine(command);
    const invocation = findInvocations(parsed)[0];
    if (invocation) return { skill: invocation.skill, text: command, destination: flagValue(invocation.command.argv, invocation.skill === 'send' ? '--destination' : '--to') };
    const egress = detectEgress(parsed);
    if (egress.length === 0) return null;
    const destinations = egress.flatMap((item) => item.destinations.map((d) => `${d.tool} -> ${d.host.replace(/[\u0001-\u0003]/g, '?')}${d.port ? `:${d.port}` : ''}`));
    return { skill: 'bash_egress', text: command, destination: destinations.join('; ').slice(0, 300) || null };
  }
  if (tool === 'WebFetch') {
    const url = typeof input.tool_input.url === 'string' ? input.tool_input.url : '';
    let host: string | null = null;
    try {
      host = new URL(url).host;
    } catch {
      host = null;
    }
    return { skill: 'bash_egress', text: url, destination: host ? `WebFetch -> ${host}` : null };
  }
  if (tool.startsWith('mcp__')) return { skill: 'bash_egress', text: JSON.stringify(input.tool_input), destination: tool };
  return null;
}

function flagValue(argv: string[], flag: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1] ?? null;
    if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1);
  }
  return null;
}

/** What happened, from tool_response: a sendgate run's delivery.status, else completed / failed / interrupted. */
function outcomeOf(input: HookInput): { result: string; detail: Record<string, unknown> } {
  const response = input.tool_response as Record<string, unknown> | string | undefined;
  if (input.hook_event_name === 'PostToolUseFailure') {
    const error = typeof response === 'string' ? response : typeof (response as Record<string, unknown> | undefined)?.error === 'string' ? String((response as Record<string, unknown>).error) : '';
    return { result: 'failed', detail: error ? { error: error.slice(0, 200) } : {} };
  }
  if (!response || typeof response !== 'object') return { result: 'completed', detail: {} };
  if (response.interrupted === true) return { result: 'interrupted', detail: {} };
  const stdout = typeof response.stdout === 'string' ? response.stdout : '';
  const status = deliveryStatus(stdout);
  if (status) return { result: status.status, detail: status.audit_id ? { sender_audit_id: status.audit_id } : {} };
  const code = typeof response.code === 'number' ? response.code : typeof response.exitCode === 'number' ? response.exitCode : null;
  return { result: 'completed', detail: code !== null ? { exit_code: code } : {} };
}

function deliveryStatus(stdout: string): { status: string; audit_id: string | null } | null {
  const text = stdout.trim();
  if (!text) return null;
  if (text.startsWith('{')) {
    try {
      const data = JSON.parse(text) as { delivery?: { status?: string }; audit_id?: string };
      if (typeof data.delivery?.status === 'string') return { status: data.delivery.status, audit_id: data.audit_id ?? null };
    } catch {
      return null;
    }
  }
  const match = /^delivery:\s*\n(?:[ \t]+.*\n)*?[ \t]+status:\s*([a-z_]+)/m.exec(`${text}\n`);
  if (!match) return null;
  const audit = /^audit_id:\s*(\S+)/m.exec(text);
  return { status: match[1]!, audit_id: audit?.[1] ?? null };
}

/** True the first time an id is claimed. */
function claim(dir: string, id: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const marker = join(dir, createHash('sha256').update(id).digest('hex').slice(0, 32));
  try {
    closeSync(openSync(marker, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  if (Math.random() < 0.02) pruneMarkers(dir);
  return true;
}

function pruneMarkers(dir: string): void {
  const cutoff = Date.now() - 14 * 86_400_000;
  try {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
    }
  } catch {
    /* best effort */
  }
}
