/**
 * Claude Code's hook protocol as sendgate uses it (checked against the real client, see
 * DESIGN.md): the JSON on stdin, and the PreToolUse answer on stdout. Validated by hand, not
 * with zod, so the hook starts fast; anything malformed is an error (the hook then blocks).
 */

export interface HookInput {
  session_id: string | null;
  transcript_path: string | null;
  cwd: string;
  permission_mode: string | null;
  hook_event_name: string;
  tool_name: string;
  tool_input: Record<string, unknown>;
  tool_use_id: string | null;
  /** PostToolUse only. */
  tool_response?: unknown;
}

export type PreToolUseDecision = { decision: 'deny' | 'ask'; reason: string; updatedInput?: Record<string, unknown> } | null;

export class HookInputError extends Error {}

export function parseHookInput(text: string, fallbackCwd: string): HookInput {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new HookInputError(`the hook input on stdin is not JSON (${(error as Error).message})`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new HookInputError('the hook input on stdin is not a JSON object');
  const record = data as Record<string, unknown>;
  const text_ = (key: string): string | null => (typeof record[key] === 'string' ? (record[key] as string) : null);
  const toolName = text_('tool_name');
  if (!toolName) throw new HookInputError('the hook input has no tool_name');
  const toolInput = record.tool_input;
  if (!toolInput || typeof toolInput !== 'object' || Array.isArray(toolInput)) throw new HookInputError(`the hook input for ${toolName} has no tool_input object`);
  return {
    session_id: text_('session_id'),
    transcript_path: text_('transcript_path'),
    cwd: text_('cwd') ?? fallbackCwd,
    permission_mode: text_('permission_mode'),
    hook_event_name: text_('hook_event_name') ?? 'PreToolUse',
    tool_name: toolName,
    tool_input: toolInput as Record<string, unknown>,
    tool_use_id: text_('tool_use_id'),
    ...(record.tool_response !== undefined ? { tool_response: record.tool_response } : {}),
  };
}

export function preToolUseOutput(decision: NonNullable<PreToolUseDecision>): string {
  const output: Record<string, unknown> = {
    hookEventName: 'PreToolUse',
    permissionDecision: decision.decision,
    permissionDecisionReason: decision.reason,
  };
  if (decision.updatedInput) output.updatedInput = decision.updatedInput;
  return `${JSON.stringify({ hookSpecificOutput: output })}\n`;
}
