/**
 * One XMPP client session (RFC 6120), built on xmpp.js (@xmpp/connection-tcp for the stream and
 * the XML parser, @xmpp/tls for the TLS socket, @xmpp/xml for stanzas), with the negotiation
 * sendgate needs done here, where it can be made strict:
 *
 * - connect only to the vetted addresses it is given (pinning: no DNS, no SRV, no see-other-host);
 * - TLS always: STARTTLS or direct TLS, the certificate verified against the account's domain
 *   (RFC 6120 13.7.2), optionally against a private CA instead of the system store; a server that
 *   does not offer STARTTLS is refused, never spoken to in plaintext;
 * - SASL SCRAM-SHA-256 / SCRAM-SHA-1 with a native PBKDF2 Hi() and server-signature check, PLAIN only
 *   as the last resort (and only ever over the verified TLS stream) — see xmpp-scram.ts;
 * - resource binding, then XEP-0198 stream management so a send can wait for the server's ack;
 * - a clean close: final <a/>, </stream:stream>, wait for the server's, then the socket.
 *
 * Every failure is a DeliveryError with a stable code; `retryable` only for connection problems and
 * timeouts. The session never logs or echoes the password.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import ConnectionTCP from '@xmpp/connection-tcp';
import TlsSocket from '@xmpp/tls/lib/Socket.js';
import xml, { type Element } from '@xmpp/xml';
import { DeliveryError } from '../errors.ts';
import { chooseMechanism, plainMessage, SaslProtocolError, SCRAM_MECHANISMS, scramClient } from './xmpp-scram.ts';
import { CertificateError, parseAnchors, presentedChain, verifyChain } from './xmpp-tls.ts';

export const NS = {
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  sm: 'urn:xmpp:sm:3',
  ping: 'urn:xmpp:ping',
} as const;

export interface SessionOptions {
  /** The account, local@domain. */
  jid: string;
  password: string;
  /** The exact resource to bind. */
  resource: string;
  /** Vetted IP addresses of the server, tried in order; nothing else is ever connected to. */
  addresses: readonly string[];
  port: number;
  tls: 'starttls' | 'implicit';
  /** PEM of the CA(s) to trust instead of the system store (a private server). */
  ca?: string | string[] | null;
  /** Bound for connecting, TLS, authentication and binding together. */
  timeoutMs: number;
  /** Negotiate XEP-0198 stream management when the server offers it (default true). */
  streamManagement?: boolean;
  /** Trace of the negotiation (never includes credentials), for --debug style diagnostics. */
  trace?: (line: string) => void;
}

export interface SessionInfo {
  /** The full JID the server bound. */
  jid: string;
  address: string;
  port: number;
  tls: 'starttls' | 'implicit';
  tlsProtocol: string | null;
  mechanism: string;
  streamManagement: boolean;
  /** Milliseconds from start: connected, tls, authenticated, bound, ready; and time inside Hi(). */
  timings: Record<string, number>;
}

export interface AckEvidence {
  /** 'sm': the server acknowledged the stanza (XEP-0198 <a h/>); 'ping': a later ping round trip returned. */
  via: 'sm' | 'ping';
  h: number | null;
}

const TLS_TRUST_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'INVALID_CA', 'CERT_REVOKED', 'HOSTNAME_MISMATCH',
]);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EADDRNOTAVAIL', 'EPIPE', 'ECONNABORTED']);
/** Stream errors after which another attempt may succeed. */
const RETRYABLE_STREAM_ERRORS = new Set(['system-shutdown', 'connection-timeout', 'reset', 'resource-constraint', 'internal-server-error', 'remote-connection-failed']);

/**
 * The xmpp.js connection with sendgate's socket parameters (pinned address, TLS options), UTF-8
 * decoding across reads, and a "quick ACK": when data arrives and we have nothing to write back
 * within the same turn of the event loop, a whitespace keepalive (RFC 6120 4.6.1) goes out. It
 * carries the TCP acknowledgement at once, so a server with Nagle on (Prosody's default) never holds
 * its next small write (stream features, a receipt, a room presence) for our ~40 ms delayed ACK.
 * Node cannot set TCP_QUICKACK; this is the portable equivalent. Off while TLS is being set up.
 */
class PinnedConnection extends ConnectionTCP {
  quickAck = true;
  readonly #params: Record<string, unknown>;
  readonly #decoder = new StringDecoder('utf8');
  #wroteSinceData = true;

  constructor(domain: string, timeoutMs: number, params: Record<string, unknown>, implicitTls: boolean) {
    super({ domain, timeout: timeoutMs });
    this.#params = params;
    if (implicitTls) this.Socket = TlsSocket as never;
  }

  override socketParameters(): unknown {
    return this.#params;
  }

  override write(data: string): Promise<void> {
    this.#wroteSinceData = true;
    return super.write(data);
  }

  override _onData(data: Buffer | string): void {
    const text = typeof data === 'string' ? data : this.#decoder.write(data);
    if (text) this.parser?.write(text);
    if (!this.quickAck) return;
    this.#wroteSinceData = false;
    setImmediate(() => {
      if (this.#wroteSinceData || !this.quickAck || !this.socket || this.status === 'closing' || this.status === 'disconnecting') return;
      this.write(' ').catch(() => {});
    });
  }
}
PinnedConnection.prototype.NS = 'jabber:client';

function describeError(error: unknown): string {
  const err = error as NodeJS.ErrnoException & { condition?: string };
  return err?.code ?? err?.condition ?? err?.message ?? String(error);
}

function tlsError(error: unknown, domain: string): DeliveryError {
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  if (TLS_TRUST_ERRORS.has(code)) {
    return new DeliveryError('XMPP_TLS_UNTRUSTED', `the server's TLS certificate is not trusted for ${domain} (${code}); for a private server set xmpp.ca_file to its CA`, {}, { cause: error });
  }
  return new DeliveryError('XMPP_TLS_FAILED', `the TLS handshake with the server failed (${describeError(error)})`, {}, { cause: error });
}

export function stanzaErrorCondition(stanza: Element): { condition: string; type: string | null; text: string | null } {
  const error = stanza.getChild('error');
  const condition = error?.getChildElements().find((child) => child.getNS() === NS.stanzas && child.name !== 'text');
  return { condition: condition?.name ?? 'undefined-condition', type: error?.attrs.type ?? null, text: error?.getChildText('text', NS.stanzas) ?? null };
}

type Waiter = { predicate: (element: Element) => boolean; resolve: (element: Element | null) => void; timer: NodeJS.Timeout };

export class XmppSession {
  readonly info: SessionInfo;
  /** Every stanza received since the session was ready (messages, presences, iqs), oldest first. */
  readonly received: Element[] = [];
  readonly #connection: PinnedConnection;
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(stanza: Element) => void>();
  readonly #iqs = new Map<string, { resolve: (element: Element) => void; reject: (error: Error) => void }>();
  #failure: DeliveryError | null = null;
  #failureListeners = new Set<(error: DeliveryError) => void>();
  #closing = false;
  #sm: { enabled: boolean; outbound: number; inbound: number; acked: number; ackWaiters: Set<() => void> };
  #idCounter = 0;

  private constructor(connection: PinnedConnection, info: SessionInfo, smEnabled: boolean) {
    this.#connection = connection;
    this.info = info;
    this.#sm = { enabled: smEnabled, outbound: 0, inbound: 0, acked: 0, ackWaiters: new Set() };
  }

  /** Connect, secure, authenticate, bind and (when offered) enable stream management. */
  static async open(options: SessionOptions): Promise<XmppSession> {
    const at = options.jid.lastIndexOf('@');
    if (at <= 0) throw new DeliveryError('XMPP_CONFIG', `the account "${options.jid}" is not a local@domain JID`);
    const username = options.jid.slice(0, at);
    const domain = options.jid.slice(at + 1);
    const deadline = Date.now() + options.timeoutMs;
    let lastConnectError: unknown = null;
    for (const address of options.addresses) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        return await XmppSession.#openAt(options, username, domain, address, remaining);
      } catch (error) {
        if (error instanceof DeliveryError && error.code === 'XMPP_CONNECT_FAILED') {
          lastConnectError = error;
          options.trace?.(`connect ${address}:${options.port} failed: ${error.message}`);
          continue;
        }
        throw error;
      }
    }
    if (lastConnectError) throw lastConnectError;
    throw new DeliveryError('XMPP_TIMEOUT', `no connection to the XMPP server within ${options.timeoutMs} ms`, { retryable: true });
  }

  static async #openAt(options: SessionOptions, username: string, domain: string, address: string, timeoutMs: number): Promise<XmppSession> {
    const started = performance.now();
    const timings: Record<string, number> = {};
    const mark = (name: string) => {
      timings[name] = Math.round((performance.now() - started) * 10) / 10;
    };
    const trace = options.trace ?? (() => {});
    // With a private CA, trust is decided by verifyChain (xmpp-tls.ts) right after the handshake and
    // before anything is written: an empty `ca` keeps Node from building its whole root store first.
    let anchors: ReturnType<typeof parseAnchors> | null = null;
    try {
      anchors = options.ca ? parseAnchors(options.ca) : null;
    } catch (error) {
      throw new DeliveryError('XMPP_TLS_UNTRUSTED', `the CA certificate cannot be read (${(error as Error).message})`, {}, { cause: error });
    }
    if (anchors && anchors.length === 0) throw new DeliveryError('XMPP_TLS_UNTRUSTED', 'the CA file holds no PEM certificate');
    const tlsOptions: ConnectionOptions = {
      servername: domain,
      minVersion: 'TLSv1.2',
      secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
      ...(anchors ? { ca: [], rejectUnauthorized: false } : {}),
    };
    /** Throws XMPP_TLS_UNTRUSTED unless the chain leads to a certificate in the CA file and names the domain. */
    const verifyPrivate = (tlsSocket: TLSSocket | null | undefined) => {
      if (!anchors) return;
      if (!tlsSocket) throw new DeliveryError('XMPP_TLS_FAILED', 'no TLS socket after the handshake');
      const { der, leaf } = presentedChain(tlsSocket);
      try {
        verifyChain(der, leaf!, anchors, domain);
      } catch (error) {
        const code = error instanceof CertificateError ? error.code : 'CERT_UNTRUSTED';
        throw new DeliveryError('XMPP_TLS_UNTRUSTED', `the server's TLS certificate is not trusted for ${domain} (${code}: ${(error as Error).message}); check xmpp.ca_file`, {}, { cause: error });
      }
    };
    // noDelay: a login is a dozen small request/answer round trips; Nagle + delayed ACK would add ~40 ms to several.
    const params = options.tls === 'implicit' ? { host: address, port: options.port, noDelay: true, ...tlsOptions } : { host: address, port: options.port, noDelay: true };
    const connection = new PinnedConnection(domain, timeoutMs, params, options.tls === 'implicit');

    let settle!: { resolve: (session: XmppSession) => void; reject: (error: DeliveryError) => void };
    const ready = new Promise<XmppSession>((resolve, reject) => {
      settle = { resolve, reject };
    });
    let done = false;
    let mechanism = '';
    let authenticated = false;
    let smEnabled = false;
    let tlsProtocol: string | null = null;
    let connected = false;
    const pendingNonza = new Set<(element: Element) => void>();
    /** Stanzas (and ack requests) that arrive after binding but before the session exists (same TCP read): replayed, not lost. */
    const early: Array<{ element: Element; counted: boolean }> = [];
    let bound = false;
    let smEnabledSeen = false;
    const fail = (error: DeliveryError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      connection.removeAllListeners();
      connection.on('error', () => {});
      (connection.socket as { destroy?: () => void } | null)?.destroy?.();
      settle.reject(error);
    };
    const timer = setTimeout(() => fail(new DeliveryError('XMPP_TIMEOUT', `the XMPP server did not complete the login within ${timeoutMs} ms (stage: ${Object.keys(timings).at(-1) ?? 'connecting'})`, { retryable: true })), timeoutMs);

    /**
     * TLS 1.3 servers send session tickets right after the handshake; with Nagle on at the server,
     * its next small write (the stream header) then waits for our delayed ACK (~40 ms). A whitespace
     * keepalive (RFC 6120 4.6.1) on each ticket acknowledges it at once.
     */
    const acknowledgeTickets = (tlsSocket: { on(event: 'session', listener: () => void): unknown } | null | undefined) => {
      tlsSocket?.on('session', () => {
        // Not from inside the event: it fires within OpenSSL's ticket callback, in the middle of a
        // read, and a write from there corrupts the record stream (the server answers bad_record_mac).
        setImmediate(() => {
          if (!done) connection.write(' ').catch(() => {});
        });
      });
    };

    /** Send a nonza and wait for the first nonza the predicate accepts. */
    const exchange = (element: Element | null, accept: (reply: Element) => boolean): Promise<Element> =>
      new Promise((resolve, reject) => {
        const listener = (reply: Element) => {
          if (!accept(reply)) return;
          pendingNonza.delete(listener);
          resolve(reply);
        };
        pendingNonza.add(listener);
        if (element) connection.send(element).catch(reject);
      });

    const iqRequest = async (iq: Element): Promise<Element> => {
      const reply = await new Promise<Element>((resolve, reject) => {
        const id = iq.attrs.id!;
        const listener = (element: Element) => {
          if (element.name !== 'iq' || element.attrs.id !== id || (element.attrs.type !== 'result' && element.attrs.type !== 'error')) return;
          pendingNonza.delete(listener);
          resolve(element);
        };
        pendingNonza.add(listener);
        connection.send(iq).catch(reject);
      });
      return reply;
    };

    const startTls = async () => {
      connection.quickAck = false; // nothing may be written on the raw socket once the handshake starts
      const reply = await exchange(xml('starttls', { xmlns: NS.tls }), (element) => element.getNS() === NS.tls);
      if (!reply.is('proceed', NS.tls)) throw new DeliveryError('XMPP_TLS_FAILED', 'the server refused STARTTLS');
      mark('proceed');
      const socket = new TlsSocket();
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', (error: unknown) => {
          // Fail now: the wrapped socket's close event would otherwise win the race as "connection lost".
          const mapped = tlsError(error, domain);
          fail(mapped);
          reject(mapped);
        });
        socket.connect({ socket: connection.socket as never, ...tlsOptions });
      });
      verifyPrivate(socket.socket);
      tlsProtocol = socket.socket?.getProtocol() ?? null;
      acknowledgeTickets(socket.socket);
      connection._attachSocket(socket);
      connection.quickAck = true;
      mark('tls');
      trace(`STARTTLS done (${tlsProtocol}), certificate verified for ${domain}`);
      await connection.restart();
    };

    const authenticate = async (features: Element) => {
      const offered = features.getChild('mechanisms', NS.sasl)!.getChildren('mechanism').map((element) => element.text().trim());
      const chosen = chooseMechanism(offered);
      if (!chosen) throw new DeliveryError('XMPP_AUTH_FAILED', `the server offers no SASL mechanism sendgate uses (offered: ${offered.join(', ') || 'none'}; supported: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN over TLS)`);
      mechanism = chosen;
      trace(`SASL ${chosen} (offered: ${offered.join(' ')})`);
      const isSasl = (element: Element) => element.getNS() === NS.sasl && ['challenge', 'success', 'failure'].includes(element.name);
      const saslFailure = (element: Element) => {
        const condition = element.getChildElements().find((child) => child.name !== 'text')?.name ?? 'not-authorized';
        const text = element.getChildText('text');
        return new DeliveryError('XMPP_AUTH_FAILED', `authentication as ${options.jid} failed: ${condition}${text ? ` (${text})` : ''}`, { retryable: condition === 'temporary-auth-failure' });
      };
      const decode = (element: Element) => {
        const text = element.text().trim();
        return text === '=' ? '' : Buffer.from(text, 'base64').toString('utf8');
      };
      try {
        if (chosen === 'PLAIN') {
          const reply = await exchange(xml('auth', { xmlns: NS.sasl, mechanism: 'PLAIN' }, Buffer.from(plainMessage(username, options.password)).toString('base64')), isSasl);
          if (!reply.is('success')) throw reply.is('failure') ? saslFailure(reply) : new DeliveryError('XMPP_AUTH_FAILED', 'unexpected SASL challenge for PLAIN');
        } else {
          const scram = scramClient(SCRAM_MECHANISMS[chosen]!, username, options.password);
          const challenge = await exchange(xml('auth', { xmlns: NS.sasl, mechanism: chosen }, Buffer.from(scram.first()).toString('base64')), isSasl);
          if (!challenge.is('challenge')) throw challenge.is('failure') ? saslFailure(challenge) : new DeliveryError('XMPP_AUTH_FAILED', 'the server skipped the SCRAM challenge');
          const final = await scram.final(decode(challenge));
          timings.hi = Math.round(scram.timings.hiMs * 10) / 10;
          timings.iterations = scram.timings.iterations;
          let outcome = await exchange(xml('response', { xmlns: NS.sasl }, Buffer.from(final).toString('base64')), isSasl);
          if (outcome.is('challenge')) {
            // Some servers send the server-final-message as a challenge and expect an empty response.
            scram.verify(decode(outcome));
            outcome = await exchange(xml('response', { xmlns: NS.sasl }), isSasl);
            if (!outcome.is('success')) throw outcome.is('failure') ? saslFailure(outcome) : new DeliveryError('XMPP_AUTH_FAILED', 'unexpected SASL challenge');
          } else if (outcome.is('success')) {
            scram.verify(decode(outcome));
          } else {
            throw saslFailure(outcome);
          }
        }
      } catch (error) {
        if (error instanceof SaslProtocolError) throw new DeliveryError('XMPP_AUTH_FAILED', `authentication as ${options.jid} failed: ${error.message}`, {}, { cause: error });
        throw error;
      }
      authenticated = true;
      mark('authenticated');
      await connection.restart();
    };

    const bind = async (features: Element) => {
      const reply = await iqRequest(xml('iq', { type: 'set', id: 'bind1' }, xml('bind', { xmlns: NS.bind }, xml('resource', {}, options.resource))));
      if (reply.attrs.type === 'error') {
        const { condition } = stanzaErrorCondition(reply);
        throw new DeliveryError('XMPP_BIND_FAILED', `the server refused to bind resource "${options.resource}": ${condition}`);
      }
      const jid = reply.getChild('bind', NS.bind)?.getChildText('jid');
      if (!jid) throw new DeliveryError('XMPP_BIND_FAILED', 'the server bound no JID');
      bound = true;
      mark('bound');
      if ((options.streamManagement ?? true) && features.getChild('sm', NS.sm)) {
        const answer = await exchange(xml('enable', { xmlns: NS.sm }), (element) => element.getNS() === NS.sm && (element.name === 'enabled' || element.name === 'failed'));
        smEnabled = answer.name === 'enabled';
        trace(smEnabled ? 'stream management enabled' : 'stream management refused by the server');
      }
      mark('ready');
      done = true;
      clearTimeout(timer);
      const session = new XmppSession(connection, {
        jid, address, port: options.port, tls: options.tls, tlsProtocol, mechanism, streamManagement: smEnabled, timings,
      }, smEnabled);
      connection.removeListener('element', onElement);
      connection.removeListener('error', onError);
      connection.removeListener('disconnect', onDisconnect);
      session.#attach();
      for (const { element, counted } of early) session.#onElement(element, counted);
      settle.resolve(session);
    };

    const negotiate = async (features: Element) => {
      if (!connection.isSecure()) {
        if (!features.getChild('starttls', NS.tls)) {
          throw new DeliveryError('XMPP_TLS_UNAVAILABLE', 'the server does not offer STARTTLS; sendgate never authenticates over an unencrypted stream');
        }
        return startTls();
      }
      if (!authenticated) {
        mark('features');
        if (!features.getChild('mechanisms', NS.sasl)) throw new DeliveryError('XMPP_AUTH_FAILED', 'the server offers no SASL authentication');
        return authenticate(features);
      }
      if (!features.getChild('bind', NS.bind)) throw new DeliveryError('XMPP_BIND_FAILED', 'the server offers no resource binding');
      return bind(features);
    };

    const onElement = (element: Element) => {
      if (done) return;
      if (element.is('features', NS.stream)) {
        negotiate(element).catch((error: unknown) => fail(error instanceof DeliveryError ? error : new DeliveryError('XMPP_PROTOCOL', `XMPP negotiation failed: ${describeError(error)}`, {}, { cause: error })));
        return;
      }
      if (element.is('enabled', NS.sm)) smEnabledSeen = true;
      const before = pendingNonza.size;
      for (const listener of [...pendingNonza]) listener(element);
      const claimed = pendingNonza.size < before;
      if (!claimed && bound && (['message', 'presence', 'iq'].includes(element.name) || element.getNS() === NS.sm)) early.push({ element, counted: smEnabledSeen });
    };
    const onError = (error: Error & { condition?: string; code?: string }) => {
      if (!connected) return; // connect() rejects too, and classifies the failure below
      if (error.condition) {
        const text = (error as { text?: string }).text;
        fail(new DeliveryError('XMPP_STREAM_ERROR', `the server closed the stream: ${error.condition}${text ? ` (${text})` : ''}`, { retryable: RETRYABLE_STREAM_ERRORS.has(error.condition) }));
      } else if (error.code && (TLS_TRUST_ERRORS.has(error.code) || error.code.startsWith('ERR_SSL') || error.code.startsWith('ERR_TLS'))) {
        fail(tlsError(error, domain));
      } else {
        fail(new DeliveryError('XMPP_CONNECTION_LOST', `the connection to the XMPP server failed during login (${describeError(error)})`, { retryable: true }, { cause: error }));
      }
    };
    const onDisconnect = () => connected && fail(new DeliveryError('XMPP_CONNECTION_LOST', 'the XMPP server closed the connection during login', { retryable: true }));
    connection.on('element', onElement);
    connection.on('error', onError);
    connection.on('disconnect', onDisconnect);

    trace(`connecting to ${address}:${options.port} (${options.tls === 'implicit' ? 'direct TLS' : 'STARTTLS'}, certificate name ${domain})`);
    try {
      await connection.connect(`xmpp://${address}:${options.port}`);
    } catch (error) {
      if (done) return ready;
      const code = (error as NodeJS.ErrnoException)?.code ?? '';
      if (options.tls === 'implicit' && !CONNECT_ERRORS.has(code)) {
        fail(tlsError(error, domain));
      } else {
        fail(new DeliveryError('XMPP_CONNECT_FAILED', `cannot connect to the XMPP server at ${address}:${options.port} (${describeError(error)})`, { retryable: true }, { cause: error }));
      }
      return ready;
    }
    if (options.tls === 'implicit') {
      try {
        verifyPrivate((connection.socket as unknown as TlsSocket).socket);
      } catch (error) {
        fail(error as DeliveryError);
        return ready;
      }
      acknowledgeTickets((connection.socket as unknown as TlsSocket).socket);
    }
    connected = true;
    const raw = connection.socket as unknown as { setNoDelay?: (on: boolean) => void; socket?: { setNoDelay?: (on: boolean) => void } | null };
    (raw.setNoDelay ? raw : raw.socket)?.setNoDelay?.(true);
    mark('connected');
    if (options.tls === 'implicit') {
      tlsProtocol = (connection.socket as unknown as TlsSocket)?.socket?.getProtocol() ?? null;
      mark('tls');
    }
    connection.open({ domain }).catch((error: unknown) => onError(error as Error));
    return ready;
  }

  #attach(): void {
    const connection = this.#connection;
    connection.on('element', (element: Element) => this.#onElement(element));
    connection.on('error', (error: Error & { condition?: string }) => {
      if (this.#closing) return;
      this.#fail(error.condition
        ? new DeliveryError('XMPP_STREAM_ERROR', `the server closed the stream: ${error.condition}`, { retryable: RETRYABLE_STREAM_ERRORS.has(error.condition) })
        : new DeliveryError('XMPP_CONNECTION_LOST', `the connection to the XMPP server failed (${describeError(error)})`, { retryable: true }, { cause: error }));
    });
    connection.on('disconnect', () => {
      if (!this.#closing) this.#fail(new DeliveryError('XMPP_CONNECTION_LOST', 'the XMPP server closed the connection', { retryable: true }));
    });
  }

  #fail(error: DeliveryError): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const listener of this.#failureListeners) listener(error);
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(null);
    }
    this.#waiters.clear();
    for (const pending of this.#iqs.values()) pending.reject(error);
    this.#iqs.clear();
  }

  /** The error that ended the session, if it ended unexpectedly. */
  get failure(): DeliveryError | null {
    return this.#failure;
  }

  #onElement(element: Element, countForSm = true): void {
    if (element.getNS() === NS.sm) {
      if (element.name === 'r') {
        this.#connection.send(xml('a', { xmlns: NS.sm, h: this.#sm.inbound })).catch(() => {});
      } else if (element.name === 'a') {
        const h = Number(element.attrs.h);
        if (Number.isFinite(h)) this.#sm.acked = h;
        for (const waiter of [...this.#sm.ackWaiters]) waiter();
      }
      return;
    }
    if (!['message', 'presence', 'iq'].includes(element.name)) return;
    if (this.#sm.enabled && countForSm) this.#sm.inbound += 1;
    if (element.name === 'iq') {
      const { type, id } = element.attrs;
      if ((type === 'result' || type === 'error') && id && this.#iqs.has(id)) {
        const pending = this.#iqs.get(id)!;
        this.#iqs.delete(id);
        pending.resolve(element);
        return;
      }
      if (type === 'get' || type === 'set') {
        this.#answerIq(element);
        return;
      }
    }
    this.received.push(element);
    for (const listener of this.#listeners) listener(element);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.predicate(element)) continue;
      this.#waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(element);
    }
  }

  /** Pings are answered; any other request gets service-unavailable (RFC 6120 8.4). */
  #answerIq(iq: Element): void {
    const attrs = { type: 'result', id: iq.attrs.id, ...(iq.attrs.from ? { to: iq.attrs.from } : {}) };
    const child = iq.getChildElements()[0];
    // Roster pushes (RFC 6121 2.1.6) come from the account itself and are acknowledged.
    const rosterPush = iq.attrs.type === 'set' && child?.is('query', 'jabber:iq:roster') && (!iq.attrs.from || iq.attrs.from === this.info.jid.split('/')[0]);
    const reply = (child?.is('ping', NS.ping) && iq.attrs.type === 'get') || rosterPush
      ? xml('iq', attrs)
      : xml('iq', { ...attrs, type: 'error' }, child ?? null, xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: NS.stanzas })));
    this.send(reply).catch(() => {});
  }

  /** A fresh stanza id, unique within this session. */
  nextId(prefix = 'sg'): string {
    this.#idCounter += 1;
    return `${prefix}${this.#idCounter}-${Math.random().toString(36).slice(2, 8)}`;
  }

  /** Send one stanza (counted for stream management). */
  async send(stanza: Element): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#sm.enabled && ['message', 'presence', 'iq'].includes(stanza.name)) this.#sm.outbound += 1;
    await this.#connection.send(stanza);
  }

  /**
   * Send a stanza and wait until the server has handled it: with stream management, until the
   * server's <a h/> covers it; without, until a ping sent after it comes back (the server handles a
   * session's stanzas in order).
   */
  async sendWithAck(stanza: Element, timeoutMs: number): Promise<AckEvidence> {
    if (this.#failure) throw this.#failure;
    if (!this.#sm.enabled) {
      await this.send(stanza);
      await this.iq('get', xml('ping', { xmlns: NS.ping }), null, timeoutMs);
      return { via: 'ping', h: null };
    }
    this.#sm.outbound += 1;
    const target = this.#sm.outbound;
    await this.#connection.sendMany([stanza, xml('r', { xmlns: NS.sm })]);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.#sm.acked >= target) {
          cleanup();
          resolve();
        }
      };
      const onFailure = (error: DeliveryError) => {
        cleanup();
        reject(error);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new DeliveryError('XMPP_TIMEOUT', `the server did not acknowledge the stanza within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#sm.ackWaiters.delete(check);
        this.#failureListeners.delete(onFailure);
      };
      this.#sm.ackWaiters.add(check);
      this.#failureListeners.add(onFailure);
      check();
    });
    return { via: 'sm', h: this.#sm.acked };
  }

  /** An iq request; resolves with the result stanza, throws XMPP_STANZA_ERROR with the condition on an error reply. */
  async iq(type: 'get' | 'set', child: Element, to: string | null, timeoutMs: number): Promise<Element> {
    if (this.#failure) throw this.#failure;
    const id = this.nextId('iq');
    const reply = await new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#iqs.delete(id);
        reject(new DeliveryError('XMPP_TIMEOUT', `no answer to the ${child.name} request within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      this.#iqs.set(id, {
        resolve: (element) => {
          clearTimeout(timer);
          resolve(element);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send(xml('iq', { type, id, ...(to ? { to } : {}) }, child)).catch((error: unknown) => {
        clearTimeout(timer);
        this.#iqs.delete(id);
        reject(error);
      });
    });
    if (reply.attrs.type === 'error') {
      const { condition, text } = stanzaErrorCondition(reply);
      throw new DeliveryError('XMPP_STANZA_ERROR', `${to ?? 'the server'} answered the ${child.name} request with ${condition}${text ? ` (${text})` : ''}`, { retryable: false });
    }
    return reply;
  }

  /** The first received stanza (already buffered, or arriving within timeoutMs) the predicate accepts; null on timeout or when the session ends. */
  waitFor(predicate: (stanza: Element) => boolean, timeoutMs: number): Promise<Element | null> {
    const seen = this.received.find(predicate);
    if (seen) return Promise.resolve(seen);
    if (this.#failure || timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          resolve(null);
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Call `listener` for every stanza received from now on; returns the unsubscribe function. */
  onStanza(listener: (stanza: Element) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Close cleanly: our final <a/> and </stream:stream>, then wait for the server's last ack (XEP-0198
   * 1.5.2: it sends one before closing) or its closing tag, end TLS and TCP, and wait for the close.
   * Ending right after the server's ack also acknowledges it at the TCP level at once, so a server
   * with Nagle on (Prosody's default) sends its closing tag without waiting for a delayed ACK.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(null);
    }
    this.#waiters.clear();
    const connection = this.#connection;
    const socket = connection.socket as (typeof connection.socket & { destroy?: () => void }) | null;
    if (this.#failure || !socket) {
      socket?.destroy?.();
      return;
    }
    const closed = new Promise<void>((resolve) => connection.once('disconnect', () => resolve()));
    const serverDone = new Promise<void>((resolve) => {
      const parser = connection.parser;
      if (!parser) return resolve();
      parser.once('end', () => resolve());
      if (this.#sm.enabled) this.#sm.ackWaiters.add(() => resolve());
    });
    const within = (promise: Promise<void>) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]).finally(() => clearTimeout(timer));
    };
    try {
      await connection.write(`${this.#sm.enabled ? xml('a', { xmlns: NS.sm, h: this.#sm.inbound }).toString() : ''}</stream:stream>`);
      connection._status('closing');
      await within(serverDone);
      socket.end();
      if (!(await within(closed))) socket.destroy?.();
    } catch {
      socket.destroy?.();
    }
  }
}
