/**
 * The other side of an XMPP test: people and room occupants the agent writes to, as real client
 * sessions against the test Prosody (src/transports/xmpp-session.ts, trusting the test CA).
 *
 *   const bob = await connectPeer(server, 'bob', 'bobpw');              // online, answers XEP-0184 receipts
 *   const mute = await connectPeer(server, 'dan', 'pw', { answerReceipts: false });
 *   await bob.joinRoom(`lobby@${server.mucDomain}`, 'bob');              // creates the room if needed
 *   const message = await bob.waitForMessage((m) => m.body === 'hi');
 *   await subscribe(server, ['agent', 'pw'], ['bob', 'pw'], 'both');     // roster subscriptions
 */
import xml, { type Element } from '@xmpp/xml';
import { fetchRoster, NS_MUC, NS_MUC_USER, NS_RECEIPTS, type RosterItem } from '../../../src/transports/xmpp.ts';
import { XmppSession } from '../../../src/transports/xmpp-session.ts';
import type { ProsodyServer } from './prosody.ts';

export interface ReceivedMessage {
  from: string;
  to: string;
  type: string;
  id: string | null;
  body: string | null;
  receiptRequested: boolean;
  stanza: Element;
}

export interface Peer {
  jid: string;
  session: XmppSession;
  messages: ReceivedMessage[];
  waitForMessage(predicate: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  joinRoom(room: string, nick: string): Promise<void>;
  roster(): Promise<RosterItem[]>;
  close(): Promise<void>;
}

export interface PeerOptions {
  /** Answer XEP-0184 receipt requests (default true). */
  answerReceipts?: boolean;
  /** Approve every incoming subscription request (default true). */
  autoApproveSubscriptions?: boolean;
  resource?: string;
  /** Send initial presence, so messages to the bare JID reach this session (default true). */
  available?: boolean;
  domain?: string;
}

function toMessage(stanza: Element): ReceivedMessage {
  return {
    from: stanza.attrs.from ?? '',
    to: stanza.attrs.to ?? '',
    type: stanza.attrs.type ?? 'normal',
    id: stanza.attrs.id ?? null,
    body: stanza.getChildText('body'),
    receiptRequested: Boolean(stanza.getChild('request', NS_RECEIPTS)),
    stanza,
  };
}

export async function openTestSession(server: ProsodyServer, user: string, password: string, resource = 'test', domain = server.domain): Promise<XmppSession> {
  return XmppSession.open({
    jid: `${user}@${domain}`,
    password,
    resource,
    addresses: ['127.0.0.1'],
    port: server.c2sPort,
    tls: 'starttls',
    ca: server.caPem,
    timeoutMs: 10_000,
  });
}

export async function connectPeer(server: ProsodyServer, user: string, password: string, options: PeerOptions = {}): Promise<Peer> {
  const session = await openTestSession(server, user, password, options.resource ?? 'peer', options.domain ?? server.domain);
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<{ predicate: (message: ReceivedMessage) => boolean; resolve: (message: ReceivedMessage) => void }>();
  session.onStanza((stanza) => {
    if (stanza.name === 'presence' && stanza.attrs.type === 'subscribe' && (options.autoApproveSubscriptions ?? true)) {
      session.send(xml('presence', { to: stanza.attrs.from!.split('/')[0]!, type: 'subscribed' })).catch(() => {});
      return;
    }
    if (stanza.name !== 'message') return;
    const message = toMessage(stanza);
    if (message.receiptRequested && message.type !== 'error' && message.type !== 'groupchat' && message.id && (options.answerReceipts ?? true)) {
      session.send(xml('message', { to: message.from, id: session.nextId('rcpt') }, xml('received', { xmlns: NS_RECEIPTS, id: message.id }))).catch(() => {});
    }
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  });
  if (options.available ?? true) await session.send(xml('presence'));
  return {
    jid: session.info.jid,
    session,
    messages,
    waitForMessage(predicate, timeoutMs = 5_000) {
      const seen = messages.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve: (message: ReceivedMessage) => {
          clearTimeout(timer);
          resolve(message);
        } };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${session.info.jid}: no matching message within ${timeoutMs} ms (got: ${messages.map((m) => JSON.stringify(m.body)).join(', ') || 'nothing'})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async joinRoom(room, nick) {
      await session.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: 0 }))));
      const joined = await session.waitFor((stanza) => stanza.name === 'presence' && stanza.attrs.from === `${room}/${nick}`
        && (stanza.attrs.type === 'error' || (stanza.getChild('x', NS_MUC_USER)?.getChildren('status').some((status) => status.attrs.code === '110') ?? false)), 5_000);
      if (!joined || joined.attrs.type === 'error') throw new Error(`${session.info.jid} could not join ${room}: ${joined?.toString() ?? 'timeout'}`);
    },
    roster: () => fetchRoster(session),
    close: () => session.close(),
  };
}

/**
 * Make `a` subscribed to `b`'s presence ('to' in a's roster, 'from' in b's), and for 'both' also
 * the other way round. Both accounts log in, exchange subscribe / subscribed, and log out.
 */
export async function subscribe(server: ProsodyServer, a: [string, string], b: [string, string], kind: 'to' | 'both'): Promise<void> {
  const first = await connectPeer(server, a[0], a[1], { resource: 'setup' });
  const second = await connectPeer(server, b[0], b[1], { resource: 'setup' });
  const aJid = `${a[0]}@${server.domain}`;
  const bJid = `${b[0]}@${server.domain}`;
  try {
    await first.session.send(xml('presence', { to: bJid, type: 'subscribe' }));
    if (kind === 'both') await second.session.send(xml('presence', { to: aJid, type: 'subscribe' }));
    const expected = kind === 'both' ? 'both' : 'to';
    const deadline = Date.now() + 5_000;
    for (;;) {
      const item = (await first.roster()).find((entry) => entry.jid === bJid);
      if (item?.subscription === expected) break;
      if (Date.now() > deadline) throw new Error(`subscription ${aJid} -> ${bJid} did not reach "${expected}" (is ${item?.subscription ?? 'absent'})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await first.close();
    await second.close();
  }
}
