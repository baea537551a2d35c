/**
 * XMPP contact rules: who the agent may write to, and who is new.
 *
 *   allowed   = on xmpp.allowed_contacts (JIDs, rooms, "*@example.com", "xmpp:example.com", "*.example.com")
 *            or (xmpp.allow_roster_contacts and on the account's roster — with a mutual "both"
 *                subscription when xmpp.allow_subscribed_only; a room is never on a roster)
 *            or neither list is configured (then first-contact confirmation is the user's say-so)
 *   new       = never confirmed before (a delivered message, or the user's "always"), when
 *               xmpp.require_first_contact_confirmation
 *   trusted   = the user answered "always" for this contact: no confirmation, no per-message approval
 *
 * `evaluateContact` is pure (target, policy, roster-or-null, remembered contacts); `xmppContactGuard`
 * wires it to the account's roster (fetched over the invocation's one XMPP session) and the state.
 * destinations.allow / deny still apply to JIDs first (the destination guard).
 */
import type { Policy } from '../config/schema.ts';
import type { Constraint } from '../contract.ts';
import { DeliveryError } from '../errors.ts';
import { preview } from '../audit/preview.ts';
import { withAttributionSuffix } from '../message/attribution.ts';
import type { XmppMessage } from '../message/types.ts';
import { needsApproval } from '../pipeline/send.ts';
import { hostMatchesPattern } from '../target/host.ts';
import { classifyPattern, matchAddress, type Pattern } from '../target/patterns.ts';
// Types only: the rules above the guard are pure, so the PreToolUse hook can use them without
// bundling the XMPP client; the guard loads the roster query when it needs it (fetchRoster below).
import type { XmppConnector, RosterItem } from '../transports/xmpp.ts';
import type { XmppSession } from '../transports/xmpp-session.ts';
import { block, pass, type Guard, type GuardContext } from './types.ts';

export interface RememberedContacts {
  /** Bare JIDs the user said "always" for. */
  always: ReadonlySet<string>;
  /** Bare JIDs already confirmed once (a first message was confirmed and delivered). */
  confirmed: ReadonlySet<string>;
}

export interface ContactQuestion {
  /** The bare JID of the contact or room. */
  bare: string;
  type: 'chat' | 'groupchat';
}

export type ContactDecision =
  | {
      allowed: true;
      /** How it is allowed: the allowed_contacts entry, "roster (both)", or "no contact list configured". */
      via: string;
      /** True when a first-contact confirmation is needed before anything is sent. */
      needsConfirmation: boolean;
      /** The user said "always" for this contact. */
      trusted: boolean;
      reason: string;
    }
  | { allowed: false; reason: string; rosterNeeded?: false }
  | { allowed: 'roster_needed'; reason: string };

const compiled = new WeakMap<readonly string[], Pattern[]>();
function patterns(list: readonly string[]): Pattern[] {
  let result = compiled.get(list);
  if (!result) {
    result = list.map(classifyPattern);
    compiled.set(list, result);
  }
  return result;
}

/** The allowed_contacts entry that admits this JID, if any. A bare domain entry admits every JID on it. */
export function allowedContactEntry(bare: string, xmpp: Policy['xmpp']): string | null {
  const domain = bare.slice(bare.lastIndexOf('@') + 1);
  for (const pattern of patterns(xmpp.allowed_contacts)) {
    if (pattern.kind === 'host' && pattern.port === null && pattern.scheme === 'any') {
      if (hostMatchesPattern(domain, pattern.host) && (bare.includes('@') || pattern.host === bare)) return pattern.source;
      continue;
    }
    if (matchAddress(pattern, bare, 'xmpp')) return pattern.source;
  }
  return null;
}

/** Whether the roster must be fetched to decide (only when roster contacts are allowed and no explicit entry matches a chat contact). */
export function rosterNeeded(question: ContactQuestion, xmpp: Policy['xmpp']): boolean {
  return question.type === 'chat' && xmpp.allow_roster_contacts && allowedContactEntry(question.bare, xmpp) === null;
}

export function evaluateContact(question: ContactQuestion, xmpp: Policy['xmpp'], roster: readonly RosterItem[] | null, remembered: RememberedContacts): ContactDecision {
  const { bare, type } = question;
  const trusted = remembered.always.has(bare);
  const known = trusted || remembered.confirmed.has(bare);
  const needsConfirmation = xmpp.require_first_contact_confirmation && !known;
  const what = type === 'groupchat' ? `the room ${bare}` : bare;
  const allow = (via: string, reason: string): ContactDecision => ({
    allowed: true,
    via,
    needsConfirmation,
    trusted,
    reason: `${reason}${trusted ? '; the user said "always" for this contact' : known ? '; contacted before' : needsConfirmation ? '; first contact: the user must confirm' : ''}`,
  });

  const entry = allowedContactEntry(bare, xmpp);
  if (entry) return allow(`allowed_contacts: ${entry}`, `${what} is on xmpp.allowed_contacts (${entry})`);

  if (xmpp.allow_roster_contacts && type === 'chat') {
    if (roster === null) return { allowed: 'roster_needed', reason: `${bare} is not on xmpp.allowed_contacts; the roster decides` };
    const item = roster.find((candidate) => candidate.jid === bare);
    if (item && item.subscription !== 'remove') {
      if (!xmpp.allow_subscribed_only || item.subscription === 'both') {
        return allow(`roster (${item.subscription})`, `${bare} is on the account's roster (subscription "${item.subscription}")`);
      }
      return {
        allowed: false,
        reason: `${bare} is on the roster with subscription "${item.subscription}", but xmpp.allow_subscribed_only admits only mutual ("both") subscriptions; ask the user to add the contact to xmpp.allowed_contacts or complete the subscription`,
      };
    }
  }

  if (xmpp.allowed_contacts.length === 0 && !xmpp.allow_roster_contacts) {
    return allow('no contact list configured', `no contact list is configured (xmpp.allowed_contacts, xmpp.allow_roster_contacts)`);
  }
  const lists = [xmpp.allowed_contacts.length > 0 ? 'xmpp.allowed_contacts' : null, xmpp.allow_roster_contacts ? (type === 'chat' ? 'the roster' : 'the roster (rooms are never on it)') : null].filter(Boolean).join(' or ');
  return { allowed: false, reason: `${what} is not on ${lists}; ask the user to add it to xmpp.allowed_contacts if it should be reachable` };
}

/** The bare JID a contacts-state key names ("xmpp:bob@example.com" or "xmpp:bob@example.com/res"). */
export function contactKey(bare: string): string {
  return `xmpp:${bare}`;
}

export function rememberedFrom(state: { always: Record<string, string>; confirmed: Record<string, string> }): RememberedContacts {
  const bareOf = (key: string) => key.replace(/^xmpp:/i, '').split('/')[0]!.toLowerCase();
  return { always: new Set(Object.keys(state.always).map(bareOf)), confirmed: new Set(Object.keys(state.confirmed).map(bareOf)) };
}

export interface XmppContactGuardDeps {
  connector: XmppConnector;
  /**
   * Open the session early (overlapping the pipeline's audit and checkpoint work) when the send
   * will go out without a human answer. False for dry runs.
   */
  preconnect?: boolean;
  /** The remembered contacts (state/contacts.json). */
  remembered: () => RememberedContacts | Promise<RememberedContacts>;
  env: NodeJS.ProcessEnv;
}

const NAME = 'xmpp_contacts';

/** xmpp.max_body_bytes, counting the attribution suffix (pure): PAYLOAD_TOO_LARGE or PAYLOAD_SIZE_OK. */
export function checkBodySize(message: XmppMessage, policy: Policy): Constraint {
  const body = withAttributionSuffix(message.body, policy);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > policy.xmpp.max_body_bytes) {
    return block(NAME, 'PAYLOAD_TOO_LARGE', `the message body is ${bytes} bytes${body !== message.body ? ' (with the attribution suffix)' : ''}; xmpp.max_body_bytes allows ${policy.xmpp.max_body_bytes}`, { bytes, max_body_bytes: policy.xmpp.max_body_bytes });
  }
  return pass(NAME, 'PAYLOAD_SIZE_OK', `body ${bytes} bytes (xmpp.max_body_bytes ${policy.xmpp.max_body_bytes})`);
}

/** The roster query, loaded on first use (the XMPP client stays out of bundles that only need the rules). */
async function fetchRoster(session: XmppSession, timeoutMs?: number): Promise<RosterItem[]> {
  return (await import('../transports/xmpp.ts')).fetchRoster(session, timeoutMs);
}

/**
 * The stateful XMPP guard, run after the stateless ones (it needs the vetted endpoint): body size,
 * contact rules (fetching the roster only when they depend on it) and first contact.
 * A first contact yields a `needs_confirmation` constraint (CONFIRMATION_REQUIRED): the pipeline
 * asks the human (status confirmation_required, exit 3). A trusted contact yields a guard-issued
 * APPROVAL_NOT_REQUIRED, which waives the per-message approval for it.
 * When the roster cannot be fetched because the server cannot be reached or refuses the login, the
 * check is deferred to the delivery (same session, before anything is sent), so the outcome is the
 * delivery failure with its condition rather than a block.
 */
export function xmppContactGuard(deps: XmppContactGuardDeps): Guard {
  return {
    name: NAME,
    async check(context: GuardContext): Promise<Constraint[]> {
      const { request, policy, target } = context;
      if (request.protocol !== 'xmpp' || request.message.protocol !== 'xmpp' || !target?.jid) return [];
      const message = request.message as XmppMessage;
      const results: Constraint[] = [];

      const body = withAttributionSuffix(message.body, policy);
      const size = checkBodySize(message, policy);
      if (size.result === 'block') return [size];
      results.push(size);

      const question: ContactQuestion = { bare: target.jid.bare, type: message.type };
      const remembered = await deps.remembered();
      let decision = evaluateContact(question, policy.xmpp, null, remembered);
      let deferred: string | null = null;
      if (decision.allowed === 'roster_needed') {
        if (policy.mode === 'draft') {
          // Draft mode never connects; the roster rule is checked when the user switches to sending.
          results.push(pass(NAME, 'CONTACT_ALLOWED', `draft mode: ${decision.reason}, which is checked only when sending (draft mode does not connect)`));
          return results;
        }
        let roster: RosterItem[];
        try {
          const session = await deps.connector.session(context.endpoint!, policy, deps.env, policy.delivery.timeout_ms);
          roster = await fetchRoster(session, policy.delivery.timeout_ms);
        } catch (error) {
          if (!(error instanceof DeliveryError)) throw error;
          deps.connector.deferContactCheck(async (session) => {
              const late = evaluateContact(question, policy.xmpp, await fetchRoster(session), remembered);
            if (late.allowed !== true) throw new DeliveryError('XMPP_CONTACT_NOT_ALLOWED', late.reason, { retryable: false });
          });
          deferred = `the roster could not be fetched (${error.code}); the contact rules are checked on the delivery session before anything is sent`;
          // Provisionally as if the roster admits the contact (the deferred check enforces the real
          // roster), so first-contact confirmation and approval still apply below: never skipped.
          roster = [{ jid: question.bare, subscription: 'both', ask: null, name: null, groups: [] }];
        }
        decision = evaluateContact(question, policy.xmpp, roster, remembered);
      }
      if (decision.allowed !== true) return [...results, block(NAME, 'CONTACT_NOT_ALLOWED', decision.reason)];
      results.push(pass(NAME, 'CONTACT_ALLOWED', deferred ?? decision.reason, { via: deferred ? 'deferred roster check' : decision.via }));
      const waitsForHuman = decision.needsConfirmation || (!decision.trusted && needsApproval(policy, target));
      if (deps.preconnect && policy.mode !== 'draft' && !waitsForHuman && context.endpoint) {
        deps.connector.preconnect(context.endpoint, policy, deps.env, policy.delivery.timeout_ms);
      }
      if (decision.trusted) {
        results.push(pass(NAME, 'APPROVAL_NOT_REQUIRED', `the user said "always" for ${question.bare}: no confirmation or per-message approval is needed for it`));
      } else if (decision.needsConfirmation) {
        results.push({
          code: 'CONFIRMATION_REQUIRED',
          guard: NAME,
          result: 'needs_confirmation',
          reason: `first message to ${question.bare}: the user must confirm it (yes, no, or always for this contact)`,
          detail: { contact: question.bare, type: question.type, draft: preview(body, 500) },
        });
      }
      return results;
    },
  };
}
