/**
 * The XMPP contact guard's rules as the PreToolUse hook can apply them: from the policy and the
 * remembered contacts (state/contacts.json) alone, never over a connection. The sender's guard
 * (src/guards/xmpp-contacts.ts) applies the same pure rules, plus the roster when they depend on it.
 *
 *   - body over xmpp.max_body_bytes (with the attribution suffix)  -> blocked (PAYLOAD_TOO_LARGE)
 *   - contact on no list                                           -> blocked (CONTACT_NOT_ALLOWED)
 *   - the rules need the roster                                     -> judged as if the roster admits the
 *     contact (rosterPending says so); the sender fetches the roster and blocks it otherwise
 *   - first contact (never confirmed, no "always")                  -> needsConfirmation
 *   - the user said "always"                                         -> trusted (no per-message approval)
 */
import type { Policy } from '../config/schema.ts';
import type { Constraint } from '../contract.ts';
import { block, pass } from '../guards/types.ts';
import { checkBodySize, evaluateContact, type RememberedContacts } from '../guards/xmpp-contacts.ts';
import type { XmppMessage } from '../message/types.ts';
import type { Target } from '../target/parse.ts';

export interface ContactVerdict {
  /** The contact guard's checks as far as the hook can make them. */
  constraints: Constraint[];
  /** The block, when there is one. */
  blocked: Constraint | null;
  /** The contact's (or room's) bare JID. */
  bare: string;
  needsConfirmation: boolean;
  trusted: boolean;
  /** Why the roster decides, when it does (the sender checks it before anything is sent). */
  rosterPending: string | null;
}

const GUARD = 'xmpp_contacts';

export function judgeContact(target: Target, message: XmppMessage, policy: Policy, remembered: RememberedContacts): ContactVerdict {
  const bare = target.jid!.bare;
  const verdict = (constraints: Constraint[], fields: Partial<ContactVerdict> = {}): ContactVerdict => ({
    constraints, blocked: constraints.find((constraint) => constraint.result === 'block') ?? null, bare, needsConfirmation: false, trusted: false, rosterPending: null, ...fields,
  });
  const size = checkBodySize(message, policy);
  if (size.result === 'block') return verdict([size]);

  const question = { bare, type: message.type };
  let decision = evaluateContact(question, policy.xmpp, null, remembered);
  let rosterPending: string | null = null;
  if (decision.allowed === 'roster_needed') {
    rosterPending = decision.reason;
    // What the sender decides when the roster admits the contact; when it does not, the sender blocks.
    decision = evaluateContact(question, policy.xmpp, [{ jid: bare, subscription: 'both', ask: null, name: null, groups: [] }], remembered);
  }
  if (decision.allowed !== true) return verdict([size, block(GUARD, 'CONTACT_NOT_ALLOWED', decision.reason)]);
  const allowed = pass(GUARD, 'CONTACT_ALLOWED', rosterPending ? `${rosterPending} (the sender checks the roster)` : decision.reason);
  return verdict([size, allowed], { needsConfirmation: decision.needsConfirmation, trusted: decision.trusted, rosterPending });
}
