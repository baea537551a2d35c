/**
 * The PreToolUse path for `xmpp-send.mjs`: its arguments are read exactly as scripts/xmpp-send.ts
 * reads them, the message is built as the sender builds it (the attribution suffix appended, the
 * destination `xmpp:<to>`), and then judged like a send.mjs invocation (send-invocation.ts
 * `judgeSend`): the stateless guards and the contact rules -> deny with the code, or "ask" with a
 * token of the kind the sender checks for (first_contact for a first message to a contact, else
 * approval). No XMPP connection is made here: when the contact rules depend on the roster, the
 * ask says so and the sender enforces them.
 */
import { parseXmppSendArgs } from '../cli/xmpp-send-args.ts';
import { withAttributionSuffix } from '../message/attribution.ts';
import type { SendgateInvocation } from './recognise.ts';
import { judgeSend, prepareInvocation, type SendDecision, type SendDecisionContext } from './send-invocation.ts';

export async function decideXmppSendInvocation(invocation: SendgateInvocation, commandText: string, toolInput: Record<string, unknown>, ctx: SendDecisionContext): Promise<SendDecision> {
  if (invocation.skill !== 'xmpp_send') throw new Error(`decideXmppSendInvocation judges xmpp-send.mjs, not ${invocation.skill}`);
  const prepared = prepareInvocation(invocation, ctx, { file: '--body-file', text: '--body' }, parseXmppSendArgs);
  if ('done' in prepared) return prepared.done;
  const { input, policy } = prepared;
  // Exactly as scripts/xmpp-send.ts: the suffix is part of the message the guards and the digest cover.
  const body = withAttributionSuffix(input.body, policy);
  const destination = /^xmpp:/i.test(input.to) ? input.to : `xmpp:${input.to}`;
  return judgeSend(
    { skill: 'xmpp_send', protocol: 'xmpp', destination, message: { protocol: 'xmpp', body, type: input.type }, approvalToken: input.approvalToken, policy },
    invocation, commandText, toolInput, ctx,
  );
}
