import xml from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/errors.ts';
import { allowedContactEntry, evaluateContact, rememberedFrom, rosterNeeded, xmppContactGuard, type RememberedContacts } from '../../src/guards/xmpp-contacts.ts';
import type { GuardContext } from '../../src/guards/types.ts';
import { parseDestination } from '../../src/target/parse.ts';
import type { RosterItem, XmppConnector } from '../../src/transports/xmpp.ts';
import { makePolicy } from '../support/guards.ts';

const none: RememberedContacts = { always: new Set(), confirmed: new Set() };
const item = (jid: string, subscription: RosterItem['subscription']): RosterItem => ({ jid, subscription, ask: null, name: null, groups: [] });
const roster = [item('both@example.com', 'both'), item('to@example.com', 'to'), item('from@example.com', 'from'), item('none@example.com', 'none')];
const xmppPolicy = (xmpp: Record<string, unknown>) => makePolicy({ xmpp }).xmpp;

describe('allowed_contacts', () => {
  const policy = xmppPolicy({ allowed_contacts: ['alice@example.com', '*@team.example.org', 'xmpp:partner.example.net', 'ops@conference.example.com', '*.corp.example'] });
  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['bob@team.example.org', '*@team.example.org'],
    ['carol@partner.example.net', 'xmpp:partner.example.net'],
    ['ops@conference.example.com', 'ops@conference.example.com'],
    ['dave@eu.corp.example', '*.corp.example'],
  ])('%s is admitted by %s', (bare, entry) => {
    expect(allowedContactEntry(bare, policy)).toBe(entry);
  });
  it.each(['mallory@example.com', 'alice@example.com.evil.test', 'bob@sub.team.example.org', 'dev@conference.example.com', 'x@corp.example'])('%s is not admitted', (bare) => {
    expect(allowedContactEntry(bare, policy)).toBeNull();
  });
});

describe('evaluateContact', () => {
  it('allows an allowlisted contact without the roster, and asks for first-contact confirmation', () => {
    const decision = evaluateContact({ bare: 'alice@example.com', type: 'chat' }, xmppPolicy({ allowed_contacts: ['alice@example.com'], allow_roster_contacts: true }), null, none);
    expect(decision).toMatchObject({ allowed: true, needsConfirmation: true, trusted: false });
    expect(rosterNeeded({ bare: 'alice@example.com', type: 'chat' }, xmppPolicy({ allowed_contacts: ['alice@example.com'], allow_roster_contacts: true }))).toBe(false);
  });

  it('refuses a contact on no list', () => {
    const decision = evaluateContact({ bare: 'mallory@example.com', type: 'chat' }, xmppPolicy({ allowed_contacts: ['alice@example.com'] }), null, none);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/not on xmpp.allowed_contacts/);
  });

  it('asks for the roster only when roster contacts are allowed and no entry matches', () => {
    const policy = xmppPolicy({ allow_roster_contacts: true });
    expect(rosterNeeded({ bare: 'both@example.com', type: 'chat' }, policy)).toBe(true);
    expect(rosterNeeded({ bare: 'room@conference.example.com', type: 'groupchat' }, policy)).toBe(false);
    expect(evaluateContact({ bare: 'both@example.com', type: 'chat' }, policy, null, none).allowed).toBe('roster_needed');
  });

  it('admits only mutual subscriptions under allow_subscribed_only', () => {
    const policy = xmppPolicy({ allow_roster_contacts: true, allow_subscribed_only: true });
    expect(evaluateContact({ bare: 'both@example.com', type: 'chat' }, policy, roster, none)).toMatchObject({ allowed: true, via: 'roster (both)' });
    for (const bare of ['to@example.com', 'from@example.com', 'none@example.com']) {
      const decision = evaluateContact({ bare, type: 'chat' }, policy, roster, none);
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toMatch(/allow_subscribed_only/);
    }
    expect(evaluateContact({ bare: 'stranger@example.com', type: 'chat' }, policy, roster, none).allowed).toBe(false);
  });

  it('admits any roster subscription when allow_subscribed_only is off', () => {
    const policy = xmppPolicy({ allow_roster_contacts: true, allow_subscribed_only: false });
    expect(evaluateContact({ bare: 'to@example.com', type: 'chat' }, policy, roster, none)).toMatchObject({ allowed: true, via: 'roster (to)' });
    expect(evaluateContact({ bare: 'stranger@example.com', type: 'chat' }, policy, roster, none).allowed).toBe(false);
  });

  it('never admits a room through the roster', () => {
    const policy = xmppPolicy({ allow_roster_contacts: true });
    const decision = evaluateContact({ bare: 'both@example.com', type: 'groupchat' }, policy, roster, none);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/rooms are never on it/);
  });

  it('with no contact list configured, first-contact confirmation is the say-so', () => {
    const policy = xmppPolicy({});
    expect(evaluateContact({ bare: 'anyone@example.com', type: 'chat' }, policy, null, none)).toMatchObject({ allowed: true, needsConfirmation: true });
    const noConfirm = xmppPolicy({ require_first_contact_confirmation: false });
    expect(evaluateContact({ bare: 'anyone@example.com', type: 'chat' }, noConfirm, null, none)).toMatchObject({ allowed: true, needsConfirmation: false });
  });

  it('remembers confirmed and "always" contacts, and "always" never overrides the policy', () => {
    const policy = xmppPolicy({ allowed_contacts: ['alice@example.com', 'bob@example.com'] });
    const remembered = rememberedFrom({ always: { 'xmpp:alice@example.com': '2026-01-01T00:00:00Z', 'xmpp:mallory@example.com': 'x' }, confirmed: { 'xmpp:bob@example.com/phone': '2026-01-01T00:00:00Z' } });
    expect(evaluateContact({ bare: 'alice@example.com', type: 'chat' }, policy, null, remembered)).toMatchObject({ allowed: true, needsConfirmation: false, trusted: true });
    expect(evaluateContact({ bare: 'bob@example.com', type: 'chat' }, policy, null, remembered)).toMatchObject({ allowed: true, needsConfirmation: false, trusted: false });
    expect(evaluateContact({ bare: 'mallory@example.com', type: 'chat' }, policy, null, remembered).allowed).toBe(false);
  });
});

describe('xmppContactGuard', () => {
  function fakes(rosterItems: RosterItem[] | DeliveryError) {
    const calls = { sessions: 0, deferred: 0 };
    const session = {
      async iq() {
        return xml('iq', { type: 'result' }, xml('query', { xmlns: 'jabber:iq:roster' }, ...(rosterItems as RosterItem[]).map((entry) => xml('item', { jid: entry.jid, subscription: entry.subscription }))));
      },
    };
    const connector = {
      async session() {
        calls.sessions += 1;
        if (rosterItems instanceof DeliveryError) throw rosterItems;
        return session;
      },
      deferContactCheck() {
        calls.deferred += 1;
      },
    } as unknown as XmppConnector;
    return { connector, calls };
  }
  function context(destination: string, body: string, type: 'chat' | 'groupchat', xmpp: Record<string, unknown>, extra: Record<string, unknown> = {}): GuardContext {
    const parsed = parseDestination(destination, 'xmpp');
    if (!parsed.ok) throw new Error(parsed.reason);
    return {
      request: { skill: 'xmpp_send', protocol: 'xmpp', destination, message: { protocol: 'xmpp', body, type } },
      policy: makePolicy({ xmpp: { jid: 'agent@example.com', ...xmpp }, ...extra }),
      deps: { lookup: async () => [], overrides: new Map(), now: () => new Date() },
      target: parsed.target,
      endpoint: { host: 'example.com', hostKind: 'name', port: 5222, addresses: ['203.0.113.5'] },
    };
  }
  const remembered = (value: RememberedContacts = none) => () => value;

  it('fetches the roster only when needed, and blocks a "to" subscription', async () => {
    const { connector, calls } = fakes(roster);
    const guard = xmppContactGuard({ connector, remembered: remembered(), env: {} });
    const refused = await guard.check(context('to@example.com', 'hi', 'chat', { allow_roster_contacts: true }));
    expect(refused.at(-1)).toMatchObject({ code: 'CONTACT_NOT_ALLOWED', result: 'block' });
    const allowed = await guard.check(context('both@example.com', 'hi', 'chat', { allow_roster_contacts: true }));
    expect(allowed.map((c) => c.code)).toEqual(['PAYLOAD_SIZE_OK', 'CONTACT_ALLOWED', 'CONFIRMATION_REQUIRED']);
    expect(allowed.at(-1)).toMatchObject({ result: 'needs_confirmation', detail: { contact: 'both@example.com', draft: 'hi' } });
    expect(calls.sessions).toBe(2);
    await guard.check(context('alice@example.com', 'hi', 'chat', { allowed_contacts: ['alice@example.com'], allow_roster_contacts: true }));
    expect(calls.sessions).toBe(2);
  });

  it('waives approval for an "always" contact and needs no confirmation', async () => {
    const { connector } = fakes(roster);
    const guard = xmppContactGuard({ connector, remembered: remembered({ always: new Set(['alice@example.com']), confirmed: new Set() }), env: {} });
    const results = await guard.check(context('alice@example.com', 'hi', 'chat', { allowed_contacts: ['alice@example.com'] }));
    expect(results.map((c) => c.code)).toEqual(['PAYLOAD_SIZE_OK', 'CONTACT_ALLOWED', 'APPROVAL_NOT_REQUIRED']);
  });

  it('blocks a body over xmpp.max_body_bytes, counting the attribution suffix', async () => {
    const { connector } = fakes(roster);
    const guard = xmppContactGuard({ connector, remembered: remembered(), env: {} });
    const results = await guard.check(context('alice@example.com', 'x'.repeat(95), 'chat', { max_body_bytes: 100, attribution: { suffix: '-- the agent' } }));
    expect(results).toEqual([expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', result: 'block' })]);
  });

  it('defers the roster check to the delivery session when the server cannot be reached, and still asks for a first contact', async () => {
    const { connector, calls } = fakes(new DeliveryError('XMPP_CONNECT_FAILED', 'refused', { retryable: true }));
    const guard = xmppContactGuard({ connector, remembered: remembered(), env: {} });
    const results = await guard.check(context('both@example.com', 'hi', 'chat', { allow_roster_contacts: true }));
    const allowed = results.find((c) => c.code === 'CONTACT_ALLOWED');
    expect(allowed).toMatchObject({ result: 'pass' });
    expect(allowed!.reason).toMatch(/checked on the delivery session/);
    // The deferral must not skip first-contact confirmation.
    expect(results.at(-1)).toMatchObject({ code: 'CONFIRMATION_REQUIRED', result: 'needs_confirmation' });
    expect(calls.deferred).toBe(1);
  });

  it('does not connect in draft mode', async () => {
    const { connector, calls } = fakes(roster);
    const guard = xmppContactGuard({ connector, remembered: remembered(), env: {} });
    const results = await guard.check(context('both@example.com', 'hi', 'chat', { allow_roster_contacts: true }, { mode: 'draft' }));
    expect(results.at(-1)!.reason).toMatch(/draft mode/);
    expect(calls.sessions).toBe(0);
  });

  it('ignores other protocols', async () => {
    const { connector } = fakes(roster);
    const guard = xmppContactGuard({ connector, remembered: remembered(), env: {} });
    const ctx = context('alice@example.com', 'hi', 'chat', {});
    ctx.request = { ...ctx.request, protocol: 'http', message: { protocol: 'http', method: 'POST', headers: {}, body: 'x', contentType: 'text/plain' } };
    expect(await guard.check(ctx)).toEqual([]);
  });
});
