/**
 * The PreToolUse path for `xmpp-send.mjs`: its arguments are read exactly as scripts/xmpp-send.ts
 * reads them, the message is built as the sender builds it (the attribution suffix appended, the
 * destination `xmpp:<to>`), and then judged like a send.mjs invocation (send-invocation.ts
 * `judgeSend`): the stateless guards and the contact rules -> deny with the code, or "ask" with a
 * token of the kind the sender checks for (first_contact for a first message to a contact, else
 * approval). No XMPP connection is made here: when the contact rules depend on the roster, the
 * ask says so and the sender enforces them.
 */
import { parseXmppSendArgs, type XmppSendInput } from '../cli/xmpp-send-args.ts';
import { isSendgateError } from '../errors.ts';
import { withAttributionSuffix } from '../message/attribution.ts';
import type { SendgateInvocation } from './recognise.ts';
import { judgeSend, policyFor, resolveArguments, type SendDecision, type SendDecisionContext } from './send-invocation.ts';

export async function decideXmppSendInvocation(invocation: SendgateInvocation, commandText: string, toolInput: Record<string, unknown>, ctx: SendDecisionContext): Promise<SendDecision> {
  if (invocation.skill !== 'xmpp_send') throw new Error(`decideXmppSendInvocation judges xmpp-send.mjs, not ${invocation.skill}`);
  const resolved = resolveArguments(invocation, ctx.cwd, { file: '--body-file', text: '--body' });
  if (!Array.isArray(resolved)) return resolved;

  let input: XmppSendInput | 'help';
  try {
    input = parseXmppSendArgs(resolved);
  } catch (error) {
    // Bad usage: the sender refuses it too (exit 64) and sends nothing.
    if (isSendgateError(error)) return { decision: null };
    throw error;
  }
  // A dry run sends nothing and consumes no approval; help is help.
  if (input === 'help' || input.dryRun) return { decision: null };

  const loaded = policyFor(input.policyFile, ctx);
  if (!loaded.ok) return loaded.decision;
  const policy = loaded.policy;
  // Exactly as scripts/xmpp-send.ts: the suffix is part of the message the guards and the digest cover.
  const body = withAttributionSuffix(input.body, policy);
  const destination = /^xmpp:/i.test(input.to) ? input.to : `xmpp:${input.to}`;
  return judgeSend(
    { skill: 'xmpp_send', protocol: 'xmpp', destination, message: { protocol: 'xmpp', body, type: input.type }, approvalToken: input.approvalToken, policy },
    invocation, commandText, toolInput, ctx,
  );
}
