/**
 * XMPP delivery: one chat message to a contact, or one groupchat message to a room, over one
 * session (src/transports/xmpp-session.ts) to one of the addresses the network guard vetted.
 *
 * Chat: the message carries a unique id (the checkpoint's idempotency key, so a retried attempt is
 * recognisably the same message), an XEP-0359 origin-id and an XEP-0184 receipt request. It counts
 * as sent once the server acknowledged it (XEP-0198 <a h/>); the confirmation says whether the
 * recipient's receipt also came back within xmpp.receipt_timeout_ms. An error stanza answering the
 * message (service-unavailable, item-not-found, not-allowed, forbidden, ...) makes it `failed`.
 *
 * Groupchat: the room must exist (disco#info; sendgate never creates rooms); the agent joins it
 * (XEP-0045) under xmpp.nick with no history, sends only after the room confirmed the join (its
 * self-presence), and leaves afterwards. The room's reflection of the message is the evidence.
 *
 * The same session also answers the contact guard's roster question (fetchRoster), so an
 * invocation opens at most one connection: see XmppConnector.
 */
import type { Policy } from '../config/schema.ts';
import { DeliveryError } from '../errors.ts';
import type { Endpoint } from '../guards/types.ts';
import { connectionResource, invalidXmlCharIndex, withAttributionSuffix } from '../message/attribution.ts';
import type { XmppMessage } from '../message/types.ts';
import { normalizeJid } from '../target/parse.ts';
import xml, { type Element } from '@xmpp/xml';
import { xmppAccount, xmppTrustedCas } from './xmpp-credentials.ts';
import { stanzaErrorCondition, XmppSession } from './xmpp-session.ts';
import type { DeliveryConfirmation, DeliveryAttempt, Transport } from './types.ts';

export const XMPP_ERROR_CODES = [
  'XMPP_CONNECT_FAILED',
  'XMPP_TIMEOUT',
  'XMPP_CONNECTION_LOST',
  'XMPP_TLS_UNTRUSTED',
  'XMPP_TLS_FAILED',
  'XMPP_TLS_UNAVAILABLE',
  'XMPP_AUTH_FAILED',
  'XMPP_BIND_FAILED',
  'XMPP_STREAM_ERROR',
  'XMPP_STANZA_ERROR',
  'XMPP_ROOM_JOIN_FAILED',
  'XMPP_CONTACT_NOT_ALLOWED',
  'XMPP_INVALID_BODY',
  'XMPP_PROTOCOL',
] as const;
export type XmppErrorCode = (typeof XMPP_ERROR_CODES)[number];

/** What the agent (or the user) can do about each failure. */
export const XMPP_NEXT_ACTIONS: Record<XmppErrorCode, string> = {
  XMPP_CONNECT_FAILED: 'the XMPP server is not reachable; check that it is up (and xmpp.service), then retry the same checkpoint',
  XMPP_TIMEOUT: 'the XMPP server did not answer in time; retry later with the same checkpoint (the message id stays the same)',
  XMPP_CONNECTION_LOST: 'the connection dropped before the server confirmed the message; retry the same checkpoint',
  XMPP_TLS_UNTRUSTED: "the server's certificate is not valid for the account's domain; fix the server or set xmpp.ca_file to a private CA (never disable verification)",
  XMPP_TLS_FAILED: 'TLS could not be set up with the server; tell the user (server configuration problem)',
  XMPP_TLS_UNAVAILABLE: 'the server does not offer encryption; sendgate will not log in over plaintext. Tell the user',
  XMPP_AUTH_FAILED: 'the server refused the account credentials; ask the user to check xmpp.jid and the password (xmpp.password_env / xmpp.password_file)',
  XMPP_BIND_FAILED: 'the server refused the session resource; tell the user',
  XMPP_STREAM_ERROR: 'the server closed the stream; read the condition in `error` and tell the user',
  XMPP_STANZA_ERROR: 'the server or the recipient refused the message (the condition is in `error`, e.g. service-unavailable for an unknown user); check the address with the user, do not resend unchanged',
  XMPP_ROOM_JOIN_FAILED: 'the room refused the agent (the condition is in `error`: members-only, banned, nickname in use, password); tell the user',
  XMPP_CONTACT_NOT_ALLOWED: 'the contact rules (checked on the delivery session because the roster could not be fetched earlier) refused this contact; nothing was sent. Tell the user',
  XMPP_INVALID_BODY: 'the message has control characters XMPP cannot carry; remove them and send again',
  XMPP_PROTOCOL: 'the server sent something sendgate could not use; tell the user',
};

export interface RosterItem {
  jid: string;
  subscription: 'none' | 'to' | 'from' | 'both' | 'remove';
  /** "subscribe" while an outgoing subscription request is pending. */
  ask: string | null;
  name: string | null;
  groups: string[];
}

export const NS_ROSTER = 'jabber:iq:roster';
export const NS_RECEIPTS = 'urn:xmpp:receipts';
export const NS_SID = 'urn:xmpp:sid:0';
export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/**
 * One XMPP session per invocation, opened on first use (the contact guard's roster fetch, or the
 * delivery) and reused; a session that failed is replaced on the next use (a retried attempt).
 */
export class XmppConnector {
  #session: Promise<XmppSession> | null = null;
  #opened = 0;
  #deferred: Array<(session: XmppSession) => Promise<void>> = [];
  #fatal: DeliveryError | null = null;
  #closing: Promise<void> | null = null;
  readonly trace: ((line: string) => void) | undefined;

  constructor(options: { trace?: (line: string) => void } = {}) {
    this.trace = options.trace;
  }

  /** How many sessions this connector opened (1 for a normal invocation). */
  get sessionsOpened(): number {
    return this.#opened;
  }

  async session(endpoint: Endpoint, policy: Policy, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<XmppSession> {
    // A login that failed for good (credentials, certificate, stream refused) is not tried twice.
    if (this.#fatal) throw this.#fatal;
    if (this.#session) {
      const existing = await this.#session.catch(() => null);
      if (existing && !existing.failure) return existing;
      if (existing) await existing.close().catch(() => {});
      this.#session = null;
    }
    this.#opened += 1;
    const opening = openXmppSession(endpoint, policy, env, timeoutMs, this.trace);
    this.#session = opening;
    opening.catch((error: unknown) => {
      if (this.#session === opening) this.#session = null;
      if (error instanceof DeliveryError && !error.retryable) this.#fatal = error;
    });
    return opening;
  }

  /**
   * Start logging in now, without waiting, so TLS and SASL overlap the pipeline's own work (audit,
   * checkpoint) before the delivery asks for the session. Only for a send that needs no human
   * answer first; a session opened for a send that is then stopped is closed unused.
   */
  preconnect(endpoint: Endpoint, policy: Policy, env: NodeJS.ProcessEnv, timeoutMs: number): void {
    if (this.#session || this.#fatal) return;
    this.trace?.('pre-connecting while the pipeline records the checkpoint');
    this.session(endpoint, policy, env, timeoutMs).catch(() => {});
  }

  /** A check the delivery must run on its session before sending (the contact guard could not fetch the roster). */
  deferContactCheck(check: (session: XmppSession) => Promise<void>): void {
    this.#deferred.push(check);
  }

  /** The session for a delivery: every deferred check has passed on it. */
  async deliverySession(endpoint: Endpoint, policy: Policy, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<XmppSession> {
    const session = await this.session(endpoint, policy, env, timeoutMs);
    for (const check of this.#deferred) await check(session);
    return session;
  }

  /** Close the session cleanly; idempotent (every caller waits for the same close). */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const pending = this.#session;
    this.#session = null;
    this.#closing = (async () => {
      const session = await pending?.catch(() => null);
      await session?.close();
      if (session) this.trace?.('session closed');
    })().finally(() => {
      this.#closing = null;
    });
    return this.#closing;
  }
}

export async function openXmppSession(endpoint: Endpoint, policy: Policy, env: NodeJS.ProcessEnv, timeoutMs: number, trace?: (line: string) => void): Promise<XmppSession> {
  const account = xmppAccount(policy, env);
  if (endpoint.addresses.length === 0) throw new DeliveryError('XMPP_CONNECT_FAILED', `no vetted address to connect to for ${endpoint.host}`);
  // The endpoint (xmpp.service or the account's domain) decides direct TLS vs STARTTLS.
  const tls = policy.xmpp.service && /^xmpps:/i.test(policy.xmpp.service) ? 'implicit' : 'starttls';
  return XmppSession.open({
    jid: account.jid.bare,
    password: account.password,
    resource: connectionResource(policy),
    addresses: endpoint.addresses,
    port: endpoint.port,
    tls,
    ca: xmppTrustedCas(policy),
    timeoutMs,
    ...(trace ? { trace } : {}),
  });
}

/** The account's roster (RFC 6121 2.1.3), with each contact's subscription state. */
export async function fetchRoster(session: XmppSession, timeoutMs = 10_000): Promise<RosterItem[]> {
  const result = await session.iq('get', xml('query', { xmlns: NS_ROSTER }), null, timeoutMs);
  const query = result.getChild('query', NS_ROSTER);
  return (query?.getChildren('item') ?? []).flatMap((item) => {
    const jid = normalizeJid(item.attrs.jid ?? '');
    if (!jid) return [];
    const subscription = (['none', 'to', 'from', 'both', 'remove'] as const).find((value) => value === item.attrs.subscription) ?? 'none';
    return [{ jid: jid.bare, subscription, ask: item.attrs.ask ?? null, name: item.attrs.name ?? null, groups: item.getChildren('group').map((group) => group.text()) }];
  });
}

/** A stanza id from the checkpoint's idempotency key: stable across retries, safe as an XML attribute. */
export function messageId(idempotencyKey: string): string {
  const cleaned = idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '');
  return cleaned.length >= 8 ? cleaned.slice(0, 100) : `sendgate-${cleaned}-${Date.now().toString(36)}`;
}

function errorFor(stanza: Element, what: string): DeliveryError {
  const { condition, type, text } = stanzaErrorCondition(stanza);
  return new DeliveryError('XMPP_STANZA_ERROR', `${what} was refused: ${condition}${type ? ` (${type})` : ''}${text ? `: ${text.slice(0, 200)}` : ''}`, { retryable: false });
}

function bareOf(jid: string | undefined): string {
  return normalizeJid(jid ?? '')?.bare ?? '';
}

export interface XmppTransportOptions {
  /** Called after a confirmed delivery (the CLI remembers the contact as confirmed). Errors are reported, not thrown. */
  onDelivered?: (attempt: DeliveryAttempt<XmppMessage>, confirmation: DeliveryConfirmation) => Promise<void> | void;
}

/** Deliver with a connector shared with the contact guard (the xmpp_send CLI and `send --protocol xmpp`). */
export function createXmppTransport(connector: XmppConnector, options: XmppTransportOptions = {}): Transport<XmppMessage> {
  return async (attempt) => {
    const started = performance.now();
    // Checked before connecting: a server closes the whole stream on characters XML cannot carry.
    if (invalidXmlCharIndex(attempt.message.body) >= 0) {
      throw new DeliveryError('XMPP_INVALID_BODY', 'the message contains control characters XMPP (XML) cannot carry; remove them and send again', { retryable: false });
    }
    const session = await connector.deliverySession(attempt.endpoint, attempt.policy, attempt.env, attempt.timeoutMs);
    const deadline = Date.now() + attempt.timeoutMs;
    const remaining = () => Math.max(1_000, deadline - Date.now());
    connector.trace?.(`session ready (${session.info.jid}, ms since connecting: ${JSON.stringify(session.info.timings)}); sending ${attempt.message.type}`);
    const result = attempt.message.type === 'groupchat'
      ? await sendGroupchat(session, attempt, remaining)
      : await sendChat(session, attempt, remaining);
    connector.trace?.(`delivered: ${result.confirmation}`);
    // Nothing more to send: log out now, while the pipeline records the delivery (the caller's
    // close() waits for this same close).
    void connector.close();
    const domain = bareOf(session.info.jid).split('@')[1] ?? '';
    const tlsMode = session.info.tls === 'implicit' ? 'direct TLS' : 'STARTTLS';
    result.evidence.push(`xmpp: session ${session.info.jid} via ${session.info.address}:${session.info.port} (${tlsMode} ${session.info.tlsProtocol ?? ''}, certificate verified for ${domain}, SASL ${session.info.mechanism})`);
    result.evidence.push(`xmpp: delivered in ${Math.round(performance.now() - started)} ms`);
    if (options.onDelivered) {
      try {
        await options.onDelivered(attempt, result);
      } catch (error) {
        result.evidence.push(`xmpp: delivered, but the contact could not be remembered (${(error as Error).message}); the next message may ask for confirmation again`);
      }
    }
    return result;
  };
}

/** A standalone transport: its own connection, closed after the attempt. */
export const deliverXmpp: Transport<XmppMessage> = async (attempt) => {
  const connector = new XmppConnector();
  try {
    return await createXmppTransport(connector)(attempt);
  } finally {
    await connector.close();
  }
};

async function sendChat(session: XmppSession, attempt: DeliveryAttempt<XmppMessage>, remaining: () => number): Promise<DeliveryConfirmation> {
  const to = attempt.target.jid!;
  const toAddress = to.resource ? `${to.bare}/${to.resource}` : to.bare;
  const id = messageId(attempt.idempotencyKey);
  const body = withAttributionSuffix(attempt.message.body, attempt.policy);
  const stanza = xml('message', { to: toAddress, type: 'chat', id },
    xml('body', {}, body),
    xml('request', { xmlns: NS_RECEIPTS }),
    xml('origin-id', { xmlns: NS_SID, id }));
  const fromPeer = (stanza: Element) => bareOf(stanza.attrs.from) === to.bare;
  const isError = (stanza: Element) => stanza.name === 'message' && stanza.attrs.type === 'error' && stanza.attrs.id === id;
  const isReceipt = (stanza: Element) => stanza.name === 'message' && stanza.attrs.type !== 'error' && fromPeer(stanza) && stanza.getChild('received', NS_RECEIPTS)?.attrs.id === id;

  const sentAt = performance.now();
  const ack = await session.sendWithAck(stanza, remaining());
  const ackMs = Math.round(performance.now() - sentAt);
  // A bounce for a local recipient arrives before the ack (the server handles a session's stanzas
  // in order); a later bounce, or the recipient's receipt, is waited for up to receipt_timeout_ms.
  const early = session.received.find(isError);
  if (early) throw errorFor(early, `the message to ${to.bare}`);
  const answer = await session.waitFor((stanza) => isError(stanza) || isReceipt(stanza), attempt.policy.xmpp.receipt_timeout_ms);
  if (answer && isError(answer)) throw errorFor(answer, `the message to ${to.bare}`);
  if (session.failure && !answer) throw session.failure;
  const receiptMs = Math.round(performance.now() - sentAt);
  const acked = ack.via === 'sm' ? `the server acknowledged it (XEP-0198, h=${ack.h}) in ${ackMs} ms` : `the server handled it (ping round trip after it, ${ackMs} ms; the server does not offer XEP-0198)`;
  const receipt = answer
    ? `XEP-0184 receipt from ${answer.attrs.from} after ${receiptMs} ms`
    : `no XEP-0184 receipt within ${attempt.policy.xmpp.receipt_timeout_ms} ms (the recipient may be offline or its client may not send receipts; the server has the message)`;
  return {
    status: 'sent',
    responseCode: null,
    confirmation: `message id ${id} to ${toAddress}: ${acked}; ${receipt}`,
    evidence: [
      `xmpp: message id ${id} (type chat) to ${toAddress}`,
      `xmpp: ${ack.via === 'sm' ? `XEP-0198 ack h=${ack.h}` : 'ping round trip (no XEP-0198)'}`,
      answer ? `xmpp: XEP-0184 receipt from ${answer.attrs.from} for ${id}` : `xmpp: no XEP-0184 receipt within ${attempt.policy.xmpp.receipt_timeout_ms} ms`,
    ],
  };
}

async function sendGroupchat(session: XmppSession, attempt: DeliveryAttempt<XmppMessage>, remaining: () => number): Promise<DeliveryConfirmation> {
  const room = attempt.target.jid!.bare;
  if (!attempt.target.jid!.local) throw new DeliveryError('XMPP_STANZA_ERROR', `${room} is not a room address (room@conference.example.com)`);
  const nick = attempt.policy.xmpp.nick;
  const id = messageId(attempt.idempotencyKey);
  const body = withAttributionSuffix(attempt.message.body, attempt.policy);

  // 1. The room must exist and be a room: joining a missing one would create it.
  let info: Element;
  try {
    info = await session.iq('get', xml('query', { xmlns: NS_DISCO_INFO }), room, remaining());
  } catch (error) {
    if (error instanceof DeliveryError && error.code === 'XMPP_STANZA_ERROR') {
      throw new DeliveryError('XMPP_STANZA_ERROR', `the room ${room} does not exist or cannot be queried: ${error.message.replace(/^.*answered the query request with /, '')}`, { retryable: false });
    }
    throw error;
  }
  const isRoom = info.getChild('query', NS_DISCO_INFO)?.getChildren('identity').some((identity) => identity.attrs.category === 'conference');
  if (!isRoom) throw new DeliveryError('XMPP_STANZA_ERROR', `${room} is not a multi-user chat room (no conference identity)`, { retryable: false });

  // 2. Join under the configured nick, without history, and wait for the room's answer.
  const occupant = `${room}/${nick}`;
  const fromRoom = (stanza: Element) => bareOf(stanza.attrs.from) === room;
  const isSelfPresence = (stanza: Element) => stanza.name === 'presence' && fromRoom(stanza) && stanza.attrs.type !== 'error' && stanza.attrs.type !== 'unavailable'
    && (stanza.getChild('x', NS_MUC_USER)?.getChildren('status').some((status) => status.attrs.code === '110') ?? false);
  const isJoinError = (stanza: Element) => stanza.name === 'presence' && fromRoom(stanza) && stanza.attrs.type === 'error';
  await session.send(xml('presence', { to: occupant }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: 0 }))));
  const joined = await session.waitFor((stanza) => isSelfPresence(stanza) || isJoinError(stanza), remaining());
  if (!joined) throw session.failure ?? new DeliveryError('XMPP_TIMEOUT', `the room ${room} did not confirm the join within the timeout`, { retryable: true });
  if (isJoinError(joined)) {
    const { condition, text } = stanzaErrorCondition(joined);
    throw new DeliveryError('XMPP_ROOM_JOIN_FAILED', `joining ${room} as "${nick}" was refused: ${condition}${text ? `: ${text.slice(0, 200)}` : ''}`, { retryable: false });
  }
  const item = joined.getChild('x', NS_MUC_USER)?.getChild('item');
  const role = item?.attrs.role ?? 'participant';
  const assignedNick = joined.attrs.from!.slice(room.length + 1);

  // 3. Send; the room reflects the message to every occupant, the agent included.
  const stanza = xml('message', { to: room, type: 'groupchat', id }, xml('body', {}, body), xml('origin-id', { xmlns: NS_SID, id }));
  const isError = (stanza: Element) => stanza.name === 'message' && stanza.attrs.type === 'error' && stanza.attrs.id === id;
  const isReflection = (stanza: Element) => stanza.name === 'message' && stanza.attrs.type === 'groupchat' && fromRoom(stanza)
    && (stanza.attrs.id === id || stanza.getChild('origin-id', NS_SID)?.attrs.id === id);
  const sentAt = performance.now();
  const ack = await session.sendWithAck(stanza, remaining());
  const answer = await session.waitFor((s) => isError(s) || isReflection(s), Math.max(attempt.policy.xmpp.receipt_timeout_ms, 1_000));
  const ms = Math.round(performance.now() - sentAt);
  // 4. Leave the room (best effort: the message is already out).
  await session.send(xml('presence', { to: `${room}/${assignedNick}`, type: 'unavailable' })).catch(() => {});
  if (answer && isError(answer)) throw errorFor(answer, `the message to the room ${room}`);
  if (!answer && session.failure) throw session.failure;
  const acked = ack.via === 'sm' ? `the server acknowledged it (XEP-0198, h=${ack.h})` : 'the server handled it (ping round trip; no XEP-0198)';
  return {
    status: 'sent',
    responseCode: null,
    confirmation: `groupchat message id ${id} to ${room} as "${assignedNick}" (${role}): ${acked}; ${answer ? `the room reflected it to its occupants after ${ms} ms` : `no reflection from the room within ${Math.max(attempt.policy.xmpp.receipt_timeout_ms, 1_000)} ms`}`,
    evidence: [
      `xmpp: joined ${room} as "${assignedNick}" (role ${role}, self-presence 110)`,
      `xmpp: message id ${id} (type groupchat) to ${room}`,
      `xmpp: ${ack.via === 'sm' ? `XEP-0198 ack h=${ack.h}` : 'ping round trip (no XEP-0198)'}`,
      answer ? `xmpp: room reflection of ${id}` : 'xmpp: no room reflection seen',
    ],
  };
}

