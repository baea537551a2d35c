/**
 * The PreToolUse path for a sendgate invocation (`node ".../scripts/send.mjs" ...`): the same
 * guards the sender runs; a block becomes "deny" with the code; a send that passes but needs
 * approval becomes "ask" with what / where / why, and the command is rewritten (updatedInput) to
 * carry an approval token bound to exactly this protocol, destination and payload, so the
 * sender's own approval check passes only when the human said yes in Claude Code's prompt.
 * `judgeSend` is shared with xmpp-send.mjs (xmpp-send-invocation.ts); for XMPP it also applies the
 * contact rules (xmpp-contact.ts), so a first contact is confirmed in the same prompt.
 *
 * Loaded lazily by the hook (it pulls in the policy loader, the guards and the state store).
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { preview } from '../audit/preview.ts';
import { parseSendArgs, type SendInput } from '../cli/send-args.ts';
import { loadPolicy } from '../config/load.ts';
import type { Policy } from '../config/schema.ts';
import type { Constraint, Protocol } from '../contract.ts';
import { isSendgateError } from '../errors.ts';
import { runGuards, STATELESS_GUARDS } from '../guards/index.ts';
import { rememberedFrom } from '../guards/xmpp-contacts.ts';
import type { GuardContext } from '../guards/types.ts';
import { parseMessage } from '../message/parse.ts';
import { payloadBytes, payloadText, sendDigest } from '../message/payload.ts';
import type { Message } from '../message/types.ts';
import { systemLookup, type Lookup } from '../network/resolve.ts';
import { needsApproval } from '../pipeline/send.ts';
import { mintToken, openRequest, verifyToken } from '../state/approvals.ts';
import { stateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { parseCommandLine, SUBST, UNKNOWN, type SimpleCommand } from '../egress/shell.ts';
import type { PreToolUseDecision } from './types.ts';
import type { SendgateInvocation } from './recognise.ts';
import { denyReason, isUserPolicyFile } from './protect.ts';
import { judgeContact, type ContactVerdict } from './xmpp-contact.ts';

export interface SendDecisionContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  lookup?: Lookup;
  now?: () => Date;
  loadPolicy?: (flag: string | undefined) => Policy;
}

export interface SendDecision {
  decision: PreToolUseDecision;
  /** For the hook's audit record. */
  audit?: { protocol: string; destination: string; digest?: string; approvalId?: string; result: string; code?: string };
  policy?: Policy;
}

export const deny = (reason: string, audit?: SendDecision['audit'], policy?: Policy): SendDecision => ({ decision: { decision: 'deny', reason: `sendgate: ${reason}` }, ...(audit ? { audit } : {}), ...(policy ? { policy } : {}) });

export async function decideSendInvocation(invocation: SendgateInvocation, commandText: string, toolInput: Record<string, unknown>, ctx: SendDecisionContext): Promise<SendDecision> {
  // xmpp-send.mjs is judged by xmpp-send-invocation.ts (the hook dispatches on the skill).
  if (invocation.skill !== 'send') throw new Error(`decideSendInvocation judges send.mjs, not ${invocation.skill}`);
  const prepared = prepareInvocation(invocation, ctx, { file: '--message-file', text: '--message' }, parseSendArgs);
  if ('done' in prepared) return prepared.done;
  const { input, policy } = prepared;
  let message;
  try {
    message = parseMessage(input.message, input.protocol);
  } catch (error) {
    if (isSendgateError(error)) return { decision: null, policy };
    throw error;
  }
  return judgeSend({ skill: 'send', protocol: input.protocol, destination: input.destination, message, approvalToken: input.approvalToken, overrides: input.resolve, policy }, invocation, commandText, toolInput, ctx);
}

/**
 * What both senders' invocations share before they are judged: the arguments as the sender will
 * see them, parsed by the sender's own parser, and the policy. Help, bad usage (the sender refuses
 * it, exit 64, and sends nothing) and dry runs (nothing is sent or consumed) pass through untouched.
 */
export function prepareInvocation<T extends { dryRun: boolean; policyFile?: string | undefined }>(
  invocation: SendgateInvocation,
  ctx: SendDecisionContext,
  flags: { file: string; text: string },
  parse: (argv: string[]) => T | 'help',
): { done: SendDecision } | { input: T; policy: Policy } {
  const resolved = resolveArguments(invocation, ctx.cwd, flags);
  if (!Array.isArray(resolved)) return { done: resolved };
  let input: T | 'help';
  try {
    input = parse(resolved);
  } catch (error) {
    if (isSendgateError(error)) return { done: { decision: null } };
    throw error;
  }
  if (input === 'help' || input.dryRun) return { done: { decision: null } };
  // A policy file the model chose could be one it wrote itself (approval off, every range open).
  if (input.policyFile !== undefined && !isUserPolicyFile(absolute(input.policyFile, ctx.cwd), ctx.env)) {
    return { done: { decision: { decision: 'deny', reason: denyReason(`--policy ${input.policyFile} is not the user's sendgate policy: a send is checked against the policy the user configured (SENDGATE_POLICY, $CLAUDE_PROJECT_DIR/.claude/sendgate.yaml or ~/.config/sendgate/policy.yaml); leave --policy out`) } } };
  }
  const loaded = policyFor(input.policyFile, ctx);
  if (!loaded.ok) return { done: loaded.decision };
  return { input, policy: loaded.policy };
}

/**
 * The sender's arguments as the sender will see them: written out literally (no $VARIABLES or
 * $(...)), the message file and the policy file made absolute (the hook does not run in the
 * command's directory), and a message read from stdin (`--x-file -`) taken from the here-document
 * or file redirect on the command itself. A SendDecision (deny) when that cannot be known.
 */
export function resolveArguments(invocation: SendgateInvocation, cwd: string, flags: { file: string; text: string }): string[] | SendDecision {
  const { command, scriptIndex } = invocation;
  const args = command.argv.slice(scriptIndex + 1);
  if (args.some((arg) => arg.includes(UNKNOWN) || arg.includes(SUBST))) {
    return deny('the send\'s arguments must be written out literally (no $VARIABLES or $(...) in them), so the hook can check exactly what will be sent');
  }
  const resolved: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg.startsWith(`${flags.file}=`) ? arg.slice(flags.file.length + 1) : arg === flags.file ? args[i + 1] : undefined;
    const policyValue = arg.startsWith('--policy=') ? arg.slice('--policy='.length) : arg === '--policy' ? args[i + 1] : undefined;
    if (value !== undefined) {
      if (arg === flags.file) i++;
      if (value === '-') {
        const doc = command.redirects.find((r) => (r.fd === null || r.fd === 0) && (r.op === '<<' || r.op === '<<-' || r.op === '<<<'));
        const file = command.redirects.find((r) => (r.fd === null || r.fd === 0) && r.op === '<');
        if (doc && (doc.text?.includes(UNKNOWN) || doc.text?.includes(SUBST))) return deny('the message on stdin must be written out literally (no $VARIABLES or $(...) in it), so the hook can check exactly what will be sent');
        // `--flag=TEXT`: a message that starts with "-" is not mistaken for an option.
        if (doc) resolved.push(`${flags.text}=${doc.text ?? ''}\n`);
        else if (file) resolved.push(flags.file, absolute(file.target, cwd));
        else return deny(`with ${flags.file} - the message must come from a here-document or a file redirect on the same command, so the hook can check it (or pass ${flags.text} / ${flags.file} FILE)`);
      } else resolved.push(flags.file, absolute(value, cwd));
      continue;
    }
    if (policyValue !== undefined) {
      if (arg === '--policy') i++;
      resolved.push('--policy', absolute(policyValue, cwd));
      continue;
    }
    resolved.push(arg);
  }
  return resolved;
}

/** The policy the sender will load (--policy, else the search order of DESIGN.md); a deny when it cannot be loaded. */
export function policyFor(flag: string | undefined, ctx: SendDecisionContext): { ok: true; policy: Policy } | { ok: false; decision: SendDecision } {
  try {
    return { ok: true, policy: ctx.loadPolicy ? ctx.loadPolicy(flag) : loadPolicy({ flag, env: ctx.env }).policy };
  } catch (error) {
    if (isSendgateError(error)) return { ok: false, decision: deny(`${error.code}: ${error.message}`) };
    throw error;
  }
}

/** One send, exactly as the sender will build it (protocol, destination as given, the whole message). */
export interface SendRequest {
  skill: 'send' | 'xmpp_send';
  protocol: Protocol;
  destination: string;
  message: Message;
  approvalToken?: string | undefined;
  overrides?: Map<string, string[]> | undefined;
  policy: Policy;
}

/**
 * The sender's stateless guards (plus, for XMPP, the contact rules the hook can apply without a
 * connection), then: blocked -> deny; draft mode or no approval needed -> no answer; a token ->
 * verified here (a bad one is denied); otherwise "ask" with the command rewritten to carry a token
 * for exactly this message — of the kind the sender will look for (first_contact or approval).
 */
export async function judgeSend(request: SendRequest, invocation: SendgateInvocation, commandText: string, toolInput: Record<string, unknown>, ctx: SendDecisionContext): Promise<SendDecision> {
  const { policy, protocol, message } = request;
  const context: GuardContext = {
    request: { skill: request.skill, protocol, destination: request.destination, message },
    policy,
    deps: { lookup: ctx.lookup ?? systemLookup, overrides: request.overrides ?? new Map(), now: ctx.now ?? (() => new Date()) },
  };
  let run;
  try {
    run = await runGuards(context, STATELESS_GUARDS);
  } catch (error) {
    if (isSendgateError(error)) return deny(`${error.code}: ${error.message}`, undefined, policy);
    throw error;
  }
  const destination = context.target?.display ?? preview(request.destination, 200);
  const blockedBy = (constraint: Constraint) =>
    deny(`${constraint.code}: ${constraint.reason}. Do not retry or work around this; tell the user.`, { protocol, destination, result: 'denied', code: constraint.code }, policy);
  if (run.blocked) return blockedBy(run.constraints.find((constraint) => constraint.result === 'block')!);
  const target = context.target!;
  const store = new StateStore(stateDir(ctx.env));

  // XMPP: the contact guard's rules, from the policy and the remembered contacts (no roster here).
  let contact: ContactVerdict | null = null;
  if (protocol === 'xmpp' && message.protocol === 'xmpp' && target.jid) {
    try {
      contact = judgeContact(target, message, policy, rememberedFrom(store.read('contacts')));
    } catch (error) {
      if (isSendgateError(error)) return deny(`${error.code}: ${error.message}`, { protocol, destination, result: 'denied', code: error.code }, policy);
      throw error;
    }
    if (contact.blocked) return blockedBy(contact.blocked);
  }
  const constraints = [...run.constraints, ...(contact?.constraints ?? [])];
  const firstContact = contact?.needsConfirmation ?? false;
  // As the sender: a first contact always asks; an "always" contact waives the per-message approval.
  const approvalRequired = firstContact || (needsApproval(policy, target) && !contact?.trusted);
  if (policy.mode === 'draft' || !approvalRequired) return { decision: null, policy, audit: { protocol, destination, result: 'passed' } };

  const now = (ctx.now ?? (() => new Date()))();
  const key = await store.hmacKey();
  const digest = sendDigest(protocol, target.display, message);
  if (request.approvalToken) {
    // A token must be one this installation issued for exactly this message; anything else is refused here.
    const check = verifyToken(key, request.approvalToken, digest, now);
    if (!check.ok) return deny(`APPROVAL_INVALID: ${check.reason}. Run the same command without --approval-token to ask the user.`, { protocol, destination, digest, result: 'denied', code: 'APPROVAL_INVALID' }, policy);
    return { decision: null, policy, audit: { protocol, destination, digest, approvalId: check.id, result: 'token_valid' } };
  }

  const text = payloadText(message);
  const kind = firstContact ? 'first_contact' : 'approval';
  const asked = 'asked in Claude Code\'s permission prompt';
  const request_ = await store.transaction(['approvals'], (state) =>
    openRequest(state.approvals, { digest, skill: request.skill, protocol, destination: target.display, summary: preview(text, 300), reason: firstContact ? `first message to ${contact!.bare}: ${asked} (yes, no, or always for this contact)` : asked, kind }, now, policy.approval.ttl_seconds),
  );
  const expiresAt = new Date(Math.min(Date.parse(request_.expires_at), now.getTime() + policy.approval.ttl_seconds * 1000));
  const token = mintToken(key, request_.id, digest, expiresAt);
  const passed = constraints.filter((constraint) => constraint.result === 'pass').map((constraint) => constraint.guard);
  const what = `${protocol.toUpperCase()}${message.protocol === 'xmpp' && message.type === 'groupchat' ? ' groupchat' : ''} to ${target.display}`;
  const roster = contact?.rosterPending
    ? `${sentence(contact.rosterPending)} The sender checks the account's roster${policy.xmpp.allow_subscribed_only ? ' (mutual "both" subscriptions only)' : ''} before anything is sent and refuses the contact if the roster does not admit it. `
    : '';
  const why = firstContact
    ? `Why ask: first message to ${contact!.bare}: Yes sends this once; to always allow this contact, run ${approveCommandFor(invocation, ctx.cwd)} approve ${request_.id} --always in a terminal. ${roster}` +
      `(Approval ${request_.id}, valid until ${expiresAt.toISOString()}.) No sends nothing.`
    : `Why ask: the policy requires a human's approval (approval.required). ${roster}` +
      `Yes sends exactly this message once (approval ${request_.id}, valid until ${expiresAt.toISOString()}); No sends nothing.`;
  const reason = `sendgate: approve this send? ${what} — ${payloadBytes(message)} bytes: "${preview(text, 160)}". Checks passed: ${[...new Set(passed)].join(', ') || 'all'}. ${why}`;
  const rewritten = insertToken(commandText, invocation, token);
  const audit = { protocol, destination, digest, approvalId: request_.id, result: 'asked' };
  if (!rewritten) {
    // The command could not be rewritten safely: ask anyway; the sender will then ask for approve.mjs.
    return { decision: { decision: 'ask', reason: `${reason} (The approval could not be attached to this command; if the send then asks for approval, the user runs approve.mjs.)` }, policy, audit };
  }
  return { decision: { decision: 'ask', reason, updatedInput: { ...toolInput, command: rewritten } }, policy, audit };
}

/** The approve command next to the invoked sender script, as the user would type it in a terminal. */
function approveCommandFor(invocation: SendgateInvocation, cwd: string): string {
  const script = absolute(invocation.command.argv[invocation.scriptIndex]!, cwd);
  const dir = dirname(script);
  return script.endsWith('.ts') ? `npx tsx ${join(dir, 'approve.ts')}` : `node "${join(dir, 'approve.mjs')}"`;
}

function sentence(text: string): string {
  return /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

export function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * Inserts `--approval-token T` right after the script path, then proves the result is the same
 * command with exactly that one addition (same words, same redirections); otherwise null.
 */
export function insertToken(commandText: string, invocation: SendgateInvocation, token: string): string | null {
  const script = invocation.command.argv[invocation.scriptIndex]!;
  const name = script.slice(script.lastIndexOf('/') + 1);
  const pattern = new RegExp(`${escapeRegExp(name)}(["']?)(?=\\s|$)`, 'g');
  const matches = [...commandText.matchAll(pattern)];
  if (matches.length !== 1) return null;
  const match = matches[0]!;
  const at = match.index! + match[0].length;
  const rewritten = `${commandText.slice(0, at)} --approval-token ${token}${commandText.slice(at)}`;
  const before = parseCommandLine(commandText).commands.filter((c) => c.argv.length > 0);
  const after = parseCommandLine(rewritten).commands.filter((c) => c.argv.length > 0);
  if (before.length !== 1 || after.length !== 1) return null;
  const expected = [...before[0]!.argv.slice(0, invocation.scriptIndex + 1), '--approval-token', token, ...before[0]!.argv.slice(invocation.scriptIndex + 1)];
  if (!sameCommand(after[0]!, { ...before[0]!, argv: expected })) return null;
  return rewritten;
}

function sameCommand(a: SimpleCommand, b: SimpleCommand): boolean {
  return (
    JSON.stringify(a.argv) === JSON.stringify(b.argv) &&
    JSON.stringify(a.assignments) === JSON.stringify(b.assignments) &&
    JSON.stringify(a.redirects) === JSON.stringify(b.redirects)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
