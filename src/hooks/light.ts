/**
 * The hook's fast path, bundled into the small entry file: decides from the hook input alone
 * whether the heavy core (policy, guards, DNS, secret scanner, state, audit) is needed at all.
 * A benign Bash command, a Read or an Edit costs a shell parse here and nothing more.
 */
import { detectEgress } from '../egress/detect.ts';
import { parseCommandLine } from '../egress/shell.ts';
import { denyReason, protectedAccess } from './protect.ts';
import { findInvocations } from './recognise.ts';
import type { HookInput } from './types.ts';

export type QuickVerdict = { kind: 'none' } | { kind: 'deny'; reason: string } | { kind: 'full' };

export function quickPreToolUse(input: HookInput, env: NodeJS.ProcessEnv): QuickVerdict {
  const tool = input.tool_name;
  if (tool === 'Bash') {
    const command = input.tool_input.command;
    if (typeof command !== 'string') return { kind: 'full' }; // the core reports the malformed input
    const parsed = parseCommandLine(command);
    const reason = protectedAccess(tool, input.tool_input, { env, cwd: input.cwd }, parsed);
    if (reason) return { kind: 'deny', reason: denyReason(reason) };
    if (findInvocations(parsed).length > 0 || !parsed.complete || detectEgress(parsed).length > 0) return { kind: 'full' };
    return { kind: 'none' };
  }
  const reason = protectedAccess(tool, input.tool_input, { env, cwd: input.cwd });
  if (reason) return { kind: 'deny', reason: denyReason(reason) };
  if (tool === 'WebFetch' || tool.startsWith('mcp__')) return { kind: 'full' };
  return { kind: 'none' };
}

/** Whether the PostToolUse hook has anything to record. */
export function postToolUseRelevant(input: HookInput): boolean {
  const tool = input.tool_name;
  if (tool === 'WebFetch' || tool.startsWith('mcp__')) return true;
  if (tool !== 'Bash' || typeof input.tool_input.command !== 'string') return false;
  const parsed = parseCommandLine(input.tool_input.command);
  return findInvocations(parsed).length > 0 || detectEgress(parsed).length > 0;
}
