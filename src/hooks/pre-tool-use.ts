/**
 * The PreToolUse decision (hooks/pre-tool-use.ts is the thin entry around it).
 *
 *   - any tool touching sendgate's state directory, the approve command or the policy: deny
 *   - Bash running a sendgate sender: the sender's guards -> deny, or ask with an approval token
 *   - any other Bash command: egress detection (src/egress) -> deny internal-network, secret-bearing,
 *     and (bash_egress: allowlist) off-allowlist destinations
 *   - WebFetch: the URL; MCP tools the policy lists (hooks.mcp_tools): their input
 *   - everything else: no answer (null), so the user's own permission rules decide
 *
 * It never answers "allow". Heavy modules (policy loader, guards, DNS, secret scanner, state) are
 * imported only on the paths that need them, so a benign command costs a parse and nothing more.
 * Errors propagate: the entry turns them into a block (fail closed).
 */
import type { Policy } from '../config/schema.ts';
import type { SecretScanner } from '../egress/check.ts';
import { detectEgress } from '../egress/detect.ts';
import { parseCommandLine } from '../egress/shell.ts';
import type { Lookup } from '../network/resolve.ts';
import { denyReason, protectedAccess } from './protect.ts';
import { findInvocations } from './recognise.ts';
import type { HookInput, PreToolUseDecision } from './types.ts';

export interface PreToolUseContext {
  env: NodeJS.ProcessEnv;
  lookup?: Lookup;
  now?: () => Date;
  scanSecrets?: SecretScanner;
  /** Policy loader override (tests); default: the search order of DESIGN.md. */
  loadPolicy?: (flag: string | undefined) => Policy;
  /** Set to false to skip the audit record of hook decisions (tests). */
  audit?: boolean;
}

export async function decidePreToolUse(input: HookInput, ctx: PreToolUseContext): Promise<PreToolUseDecision> {
  const cwd = input.cwd;
  const tool = input.tool_name;

  if (tool === 'Bash') {
    const command = input.tool_input.command;
    if (typeof command !== 'string') throw new Error('Bash tool_input.command is not a string');
    const parsed = parseCommandLine(command);
    const protectedReason = protectedAccess(tool, input.tool_input, { env: ctx.env, cwd }, parsed);
    if (protectedReason) return denyProtected(protectedReason);

    const invocations = findInvocations(parsed);
    if (invocations.length > 0) {
      const others = parsed.commands.filter((c) => c.argv.length > 0 && !invocations.some((i) => i.command === c));
      const wrapped = invocations.some((i) => i.command.wrappers.length > 0 || i.command.stdinFrom.length > 0 || i.command.depth > 0);
      if (invocations.length > 1 || others.length > 0 || wrapped) {
        return deny('SEND_NOT_ALONE: run sendgate\'s sender as a command of its own (no pipes, `&&`, `;`, subshells or wrappers around it), so exactly what it sends can be checked and approved');
      }
      const decide = invocations[0]!.skill === 'xmpp_send' ? (await import('./xmpp-send-invocation.ts')).decideXmppSendInvocation : (await import('./send-invocation.ts')).decideSendInvocation;
      const result = await decide(invocations[0]!, command, input.tool_input, { env: ctx.env, cwd, ...(ctx.lookup ? { lookup: ctx.lookup } : {}), ...(ctx.now ? { now: ctx.now } : {}), ...(ctx.loadPolicy ? { loadPolicy: ctx.loadPolicy } : {}) });
      if (result.audit && result.policy && ctx.audit !== false) {
        await auditDecision(input, ctx, result.policy, { ...result.audit, tool: 'Bash', skill: invocations[0]!.skill, decision: result.decision?.decision ?? 'none', reason: result.decision?.reason ?? null });
      }
      return result.decision;
    }

    if (detectEgress(parsed).length === 0) return null;
    const policy = await policyFor(ctx);
    if (policy.bash_egress === 'off') return null;
    const { checkParsed } = await import('../egress/check.ts');
    const verdict = await checkParsed(command, parsed, policy, await egressDeps(ctx, cwd));
    if (!verdict.deny) return null;
    if (ctx.audit !== false) await auditDecision(input, ctx, policy, { tool: 'Bash', skill: 'bash_egress', decision: 'deny', code: verdict.code, reason: verdict.reason ?? null, destination: verdict.summary.join('; ') || null, result: 'denied' });
    return deny(`${verdict.code}: ${sentence(verdict.reason ?? 'the command would send data out')} Do not retry this another way; tell the user what was blocked and why.`);
  }

  const protectedReason = protectedAccess(tool, input.tool_input, { env: ctx.env, cwd });
  if (protectedReason) return denyProtected(protectedReason);

  if (tool === 'WebFetch') {
    const url = input.tool_input.url;
    if (typeof url !== 'string') throw new Error('WebFetch tool_input.url is not a string');
    const policy = await policyFor(ctx);
    if (policy.bash_egress === 'off') return null;
    const { checkUrl } = await import('../egress/check.ts');
    const verdict = await checkUrl(url, 'WebFetch', policy, await egressDeps(ctx, cwd));
    if (!verdict.deny) return null;
    if (ctx.audit !== false) await auditDecision(input, ctx, policy, { tool, skill: 'bash_egress', decision: 'deny', code: verdict.code, reason: verdict.reason ?? null, destination: verdict.summary.join('; ') || null, result: 'denied' });
    return deny(`${verdict.code}: ${verdict.reason}`);
  }

  if (tool.startsWith('mcp__')) {
    const policy = await policyFor(ctx);
    if (policy.bash_egress === 'off' || !policy.hooks.mcp_tools.some((pattern) => mcpMatches(pattern, tool))) return null;
    const { checkToolInput } = await import('../egress/check.ts');
    const verdict = await checkToolInput(tool, input.tool_input, policy, await egressDeps(ctx, cwd));
    if (!verdict.deny) return null;
    if (ctx.audit !== false) await auditDecision(input, ctx, policy, { tool, skill: 'bash_egress', decision: 'deny', code: verdict.code, reason: verdict.reason ?? null, destination: verdict.summary.join('; ') || null, result: 'denied' });
    return deny(`${verdict.code}: ${verdict.reason}`);
  }

  return null;
}

export function mcpMatches(pattern: string, tool: string): boolean {
  return pattern.endsWith('*') ? tool.startsWith(pattern.slice(0, -1)) : pattern === tool;
}

function deny(reason: string): PreToolUseDecision {
  return { decision: 'deny', reason: reason.startsWith('sendgate') ? reason : `sendgate: ${reason}` };
}

/** State, policy and hook-configuration protection carry their own codes (STATE_PROTECTED, CONFIG_PROTECTED). */
function denyProtected(reason: string): PreToolUseDecision {
  return deny(denyReason(reason));
}

async function policyFor(ctx: PreToolUseContext): Promise<Policy> {
  if (ctx.loadPolicy) return ctx.loadPolicy(undefined);
  const { loadPolicy } = await import('../config/load.ts');
  // A policy that cannot be read or does not validate throws: the caller blocks (fail closed).
  return loadPolicy({ env: ctx.env }).policy;
}

async function egressDeps(ctx: PreToolUseContext, cwd: string) {
  const { systemLookup } = await import('../network/resolve.ts');
  const { scanForEgress } = await import('../egress/secrets.ts');
  const { homedir } = await import('node:os');
  return { lookup: ctx.lookup ?? systemLookup, cwd, home: ctx.env.HOME || homedir(), scanSecrets: ctx.scanSecrets ?? scanForEgress };
}

interface DecisionRecord {
  tool: string;
  skill: string;
  decision: string;
  code?: string | undefined;
  reason: string | null;
  destination?: string | null;
  protocol?: string;
  digest?: string;
  approvalId?: string;
  result: string;
}

/** One audit line per hook decision that mattered (deny / ask / a checked send). Never blocks the decision. */
async function auditDecision(input: HookInput, ctx: PreToolUseContext, policy: Policy, record: DecisionRecord): Promise<void> {
  try {
    const [{ appendAudit, auditPath }, { stateDir }] = await Promise.all([import('../audit/log.ts'), import('../state/paths.ts')]);
    await appendAudit(auditPath(policy, stateDir(ctx.env)), {
      skill: record.skill,
      action: 'hook_decision',
      protocol: record.protocol ?? null,
      destination: record.destination ?? null,
      triggered_by: 'claude-code PreToolUse hook',
      session_id: input.session_id,
      conversation_id: input.session_id,
      tool_use_id: input.tool_use_id,
      approval_id: record.approvalId ?? null,
      result: record.result,
      detail: { tool: record.tool, decision: record.decision, ...(record.code ? { code: record.code } : {}), ...(record.reason ? { reason: record.reason.slice(0, 300) } : {}), ...(record.digest ? { digest: record.digest } : {}) },
    });
  } catch {
    /* the decision stands; the audit log's own problems surface on the next send */
  }
}

/** Reasons are written as clauses; end one with a full stop before the next sentence follows. */
function sentence(text: string): string {
  return /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}
