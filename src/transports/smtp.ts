/**
 * E-mail through nodemailer's SMTP client: one attempt, one connection, to one of the addresses the
 * network guard vetted (never re-resolved), with TLS always on and always verified against the real
 * host name: STARTTLS required on smtp:// (587), TLS from the first byte on smtps:// (465).
 *
 * The transport uses nodemailer's SMTPConnection and MailComposer directly rather than its
 * high-level transport, because it has to control two things that one hides:
 *  - where it connects (the vetted IP, with `tls.servername` carrying the name to verify), and
 *  - what happens when the server refuses some recipients but takes others: the message goes to all
 *    of them or to none (the body is never streamed, the session is dropped), so `failed` always
 *    means nobody got it and a retry can never deliver a second copy to the ones who did.
 *
 * Credentials come from the environment or a 0600 file named in the policy; they never appear in an
 * error, in the confirmation or in evidence (every peer text is scrubbed of them before it is used).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import addressparser from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { expandHome, readSecretSetting } from '../config/credentials.ts';
import type { Policy } from '../config/schema.ts';
import { ConfigError, DeliveryError } from '../errors.ts';
import { mailRecipients } from '../guards/destination.ts';
import type { MailMessage } from '../message/types.ts';
import { endpointFor } from '../target/endpoint.ts';
import { normalizeEmail } from '../target/parse.ts';
import type { DeliveryConfirmation, Transport } from './types.ts';

export const SMTP_ERROR_CODES = [
  'SMTP_CONNECT_FAILED',
  'SMTP_TIMEOUT',
  'SMTP_TLS_FAILED',
  'SMTP_AUTH_FAILED',
  'SMTP_RECIPIENT_REJECTED',
  'SMTP_RECIPIENT_INVALID',
  'SMTP_REJECTED',
] as const;
export type SmtpErrorCode = (typeof SMTP_ERROR_CODES)[number];

/** What the agent (or the user) can do about each failure; the pipeline may use these for next_actions. */
export const SMTP_NEXT_ACTIONS: Record<SmtpErrorCode, string> = {
  SMTP_CONNECT_FAILED: 'check that the mail server is up and listening on that port, then retry the same checkpoint',
  SMTP_TIMEOUT: 'the mail server did not answer in time; retry later with the same checkpoint (the Message-ID stays the same)',
  SMTP_TLS_FAILED: "the server's TLS certificate could not be verified for its host name, or it does not offer STARTTLS; fix the server or set smtp.ca_file to trust a private CA (never disable verification)",
  SMTP_AUTH_FAILED: 'the server refused the credentials; ask the user to check the variables named by smtp.username_env / smtp.password_env (or smtp.password_file)',
  SMTP_RECIPIENT_REJECTED: 'the server refused a recipient; nothing was sent to anyone. Check the address with the user, remove it, and send again (a new approval is needed for the changed message)',
  SMTP_RECIPIENT_INVALID: 'a recipient is not a plain e-mail address (user@domain); fix the message and send again',
  SMTP_REJECTED: 'the server refused the message; read the server reply in `error` and tell the user, do not resend it unchanged',
};

export interface SmtpCredentials {
  user: string;
  pass: string;
}

const MAX_REPLY_CHARS = 400;

export const deliverSmtp: Transport<MailMessage> = async (attempt) => {
  const { target, endpoint, message, policy, timeoutMs, idempotencyKey, env } = attempt;
  const from = senderAddress(policy);
  const credentials = smtpCredentials(policy, env);
  const recipients = envelopeRecipients(target, message);
  const ca = trustedCas(policy);
  // The guard's view of the endpoint decides the TLS mode; port 465 is implicit TLS whatever the scheme.
  const implicitTls = endpointFor(target, policy).tls === 'implicit' || endpoint.port === 465;
  const messageId = stableMessageId(idempotencyKey, from.domain);
  const raw = await composeMessage(target.addresses, message, from.header, messageId);
  const secrets = credentials ? secretSpellings(credentials) : [];

  if (endpoint.addresses.length === 0) {
    throw new DeliveryError('SMTP_CONNECT_FAILED', `no vetted address to connect to for ${endpoint.host}`, { retryable: false });
  }

  const deadline = Date.now() + timeoutMs;
  let lastError: DeliveryError | null = null;
  // Try the vetted addresses in turn, but only while nothing reached the server (a refused or
  // unreachable address). Once a session started, its outcome is the attempt's outcome.
  for (const address of endpoint.addresses) {
    // Only a vetted IP literal: nodemailer must never get a name it would resolve itself.
    if (!isIP(address)) throw new DeliveryError('SMTP_CONNECT_FAILED', `refusing to connect to "${address.slice(0, 80)}": not a vetted IP address`, { retryable: false });
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const session = await runSession({
      address,
      port: endpoint.port,
      servername: endpoint.hostKind === 'name' ? endpoint.host : undefined,
      implicitTls,
      ca,
      credentials,
      ehloName: from.domain,
      envelope: { from: from.address, to: recipients },
      raw,
      timeoutMs: remaining,
    });
    if (session.ok) {
      const reply = scrub(session.info.response, secrets);
      const evidence = [
        `smtp: ${endpoint.host}:${endpoint.port} via ${address}, ${session.tls}`,
        ...(credentials ? [`smtp: authenticated (${session.authMethod ?? 'AUTH'})`] : ['smtp: no AUTH (no credentials configured)']),
        `smtp: MAIL FROM:<${from.address}>`,
        `smtp: accepted recipients: ${session.info.accepted.join(', ')}`,
        `smtp: Message-ID ${messageId}`,
        `smtp: server reply: ${reply}`,
      ];
      const confirmation: DeliveryConfirmation = { status: 'sent', responseCode: replyCode(session.info.response) ?? 250, confirmation: reply, evidence };
      return confirmation;
    }
    lastError = toDeliveryError(session.error, { host: endpoint.host, address, port: endpoint.port, secrets });
    if (!session.beforeGreeting) throw lastError;
  }
  throw lastError ?? new DeliveryError('SMTP_TIMEOUT', `no answer from ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`, { retryable: true });
};

// ---------------------------------------------------------------------------------------------
// Configuration: sender, credentials, trusted CAs

/**
 * Everything about the configuration the transport would refuse, checked without connecting:
 * smtp.from, the credentials (incl. the password file's mode) and smtp.ca_file. Throws ConfigError.
 * Meant to run before the checkpoint / approval / rate-limit transaction, so a configuration
 * problem is exit 78 and consumes nothing.
 */
export function checkSmtpConfig(policy: Policy, env: NodeJS.ProcessEnv): void {
  senderAddress(policy);
  smtpCredentials(policy, env);
  trustedCas(policy);
}

export function senderAddress(policy: Policy): { address: string; domain: string; header: string } {
  const configured = policy.smtp.from;
  if (!configured) {
    throw new ConfigError('sending e-mail needs the sender: set `smtp.from: assistant@example.com` in the policy', { keyPath: 'smtp.from', code: 'CONFIG_MISSING' });
  }
  const parsed = addressparser(configured, { flatten: true });
  const first = parsed[0];
  const normalized = parsed.length === 1 && first?.address ? normalizeEmail(first.address) : null;
  if (!normalized || /[\r\n]/.test(configured)) {
    throw new ConfigError(`smtp.from "${configured}" is not one e-mail address (user@domain, or "Name <user@domain>")`, { keyPath: 'smtp.from' });
  }
  return { address: first!.address, domain: normalized.domain.host, header: configured.trim() };
}

/**
 * Credentials from the environment (smtp.username_env / smtp.password_env) or the password from a
 * 0600 file (smtp.password_file). None configured means no AUTH. Never from argv or the policy text.
 */
export function smtpCredentials(policy: Policy, env: NodeJS.ProcessEnv): SmtpCredentials | null {
  const { username_env: userEnv, password_env: passEnv, password_file: passFile } = policy.smtp;
  const user = userEnv ? env[userEnv] || undefined : undefined;
  const pass = readSecretSetting({ envName: passEnv, file: passFile, keyPath: 'smtp.password_file', env }) ?? undefined;
  if (!user && !pass) return null;
  if (!user) {
    throw new ConfigError(
      `an SMTP password is configured but no user name: set the environment variable ${userEnv ?? '(smtp.username_env is null)'} named by smtp.username_env`,
      { keyPath: 'smtp.username_env', code: 'CONFIG_MISSING' },
    );
  }
  if (!pass) {
    throw new ConfigError(
      `an SMTP user name is set (${userEnv}) but no password: set the environment variable ${passEnv ?? '(smtp.password_env is null)'} or smtp.password_file (mode 0600)`,
      { keyPath: passFile ? 'smtp.password_file' : 'smtp.password_env', code: 'CONFIG_MISSING' },
    );
  }
  return { user, pass };
}

/** The system roots plus the policy's CA (added, never replacing the roots); undefined = Node's defaults. */
function trustedCas(policy: Policy): string[] | undefined {
  if (!policy.smtp.ca_file) return undefined;
  const file = expandHome(policy.smtp.ca_file);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`smtp.ca_file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { keyPath: 'smtp.ca_file', file, code: 'CONFIG_UNREADABLE' });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`smtp.ca_file: ${file} holds no PEM certificate`, { keyPath: 'smtp.ca_file', file });
  }
  return [...rootCertificates, pem];
}

// ---------------------------------------------------------------------------------------------
// The message

/**
 * Envelope recipients: exactly the set the destination guard checked (mailRecipients), each one a
 * plain address. A display-name form or anything the guards could not read is refused here too.
 */
export function envelopeRecipients(target: Parameters<typeof mailRecipients>[0], message: MailMessage): string[] {
  const recipients = mailRecipients(target, message);
  if (recipients.length === 0) {
    throw new DeliveryError('SMTP_RECIPIENT_INVALID', 'the e-mail has no recipient: give "to" (and optionally "cc", "bcc") in --message, or a mailto: destination', { retryable: false });
  }
  for (const recipient of recipients) {
    if (!normalizeEmail(recipient)) {
      throw new DeliveryError('SMTP_RECIPIENT_INVALID', `"${recipient.slice(0, 80)}" is not a plain e-mail address (user@domain)`, { retryable: false });
    }
  }
  return recipients;
}

/** Same checkpoint, same Message-ID: a resumed send is recognisably the same message. */
export function stableMessageId(idempotencyKey: string, domain: string): string {
  const digest = createHash('sha256').update(`sendgate-smtp\0${idempotencyKey}`).digest('hex').slice(0, 32);
  return `<sendgate.${digest}@${domain}>`;
}

async function composeMessage(destinationAddresses: string[], message: MailMessage, from: string, messageId: string): Promise<Buffer> {
  const bcc = new Set(message.bcc.map((address) => address.toLowerCase()));
  const cc = new Set(message.cc.map((address) => address.toLowerCase()));
  // A mailto: destination names recipients too: they go in To unless the message puts them in Cc/Bcc.
  const to = [...new Set([...destinationAddresses.filter((address) => !bcc.has(address) && !cc.has(address)), ...message.to])];
  const composer = new MailComposer({
    from,
    to: to.length ? to : undefined,
    cc: message.cc.length ? message.cc : undefined,
    bcc: message.bcc.length ? message.bcc : undefined,
    subject: message.subject,
    text: message.text,
    html: message.html ?? undefined,
    messageId,
    // Nothing in a message may make the composer read a local file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  // Bcc stays out of the headers (MailComposer drops it unless keepBcc), it is in the envelope only.
  return composer.compile().build();
}

// ---------------------------------------------------------------------------------------------
// One SMTP session

interface SessionOptions {
  address: string;
  port: number;
  servername: string | undefined;
  implicitTls: boolean;
  ca: string[] | undefined;
  credentials: SmtpCredentials | null;
  ehloName: string;
  envelope: { from: string; to: string[] };
  raw: Buffer;
  timeoutMs: number;
}

interface SendInfo {
  accepted: string[];
  rejected: string[];
  response: string;
}

type SessionResult =
  | { ok: true; info: SendInfo; tls: string; authMethod: string | undefined }
  | { ok: false; error: SmtpFailure; beforeGreeting: boolean };

/** What went wrong, in nodemailer's terms (code / responseCode / command) or ours. */
export interface SmtpFailure {
  kind?: 'timeout' | 'no-auth' | 'partial-reject';
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message: string;
  rejected?: { recipient: string; response: string }[];
}

function runSession(options: SessionOptions): Promise<SessionResult> {
  return new Promise<SessionResult>((resolve) => {
    const tlsOptions: ConnectionOptions = {
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
    };
    const connection = new SMTPConnection({
      host: options.address, // an IP: nodemailer's own resolver is skipped for IP literals
      port: options.port,
      secure: options.implicitTls,
      requireTLS: !options.implicitTls,
      ignoreTLS: false,
      opportunisticTLS: false,
      ...(options.servername ? { servername: options.servername } : {}),
      tls: tlsOptions,
      name: options.ehloName, // never the local machine's host name
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: 1,
      socketCloseTimeout: 1_000,
      logger: false,
      debug: false,
      transactionLog: false,
    });

    let settled = false;
    let greeted = false;
    let authMethod: string | undefined;
    const finish = (result: SessionResult, how: 'quit' | 'close'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        if (how === 'quit') connection.quit();
        else connection.close();
      } catch {
        // the connection is already gone
      }
      resolve(result);
    };
    const fail = (error: SmtpFailure): void => finish({ ok: false, error, beforeGreeting: !greeted }, 'close');
    const timer = setTimeout(() => fail({ kind: 'timeout', code: 'ETIMEDOUT', message: 'Timeout' }), options.timeoutMs);

    connection.on('error', (error: unknown) => fail(failureOf(error)));
    connection.connect((error) => {
      if (error) return fail(failureOf(error));
      greeted = true;
      const tls = describeTls(connection, options.implicitTls);
      const send = (): void => {
        const envelope: { from: string; to: string[]; size: number; rejected?: string[]; rejectedErrors?: unknown[] } = {
          from: options.envelope.from,
          to: [...options.envelope.to],
          size: options.raw.length,
        };
        // All or nobody: nodemailer streams the body once the server took at least one recipient.
        // The body stream looks at the envelope (nodemailer records refusals on it) before it
        // yields a byte; a refusal drops the session mid-DATA, so the server discards the message.
        const body = new Readable({ read() {} });
        const pipe = body.pipe.bind(body);
        body.pipe = (<T extends Writable>(destination: T, pipeOptions?: { end?: boolean }): T => {
          const refused = envelope.rejected ?? [];
          if (refused.length > 0) {
            const errors = (envelope.rejectedErrors ?? []) as SmtpFailure[];
            const rejected = refused.map((recipient, index) => ({ recipient, response: errors[index]?.response ?? '' }));
            fail({ kind: 'partial-reject', code: 'EENVELOPE', command: 'RCPT TO', message: 'Recipient command failed', rejected });
            return destination;
          }
          body.push(options.raw);
          body.push(null);
          return pipe(destination, pipeOptions);
        }) as typeof body.pipe;
        connection.send(envelope, body, (sendError, info) => {
          if (sendError || !info) return fail(failureOf(sendError));
          finish({ ok: true, info: { accepted: info.accepted, rejected: info.rejected, response: String(info.response ?? '') }, tls, authMethod }, 'quit');
        });
      };
      if (!options.credentials) return send();
      if (!connection.allowsAuth) {
        return fail({ kind: 'no-auth', code: 'EAUTH', message: 'the server offers no AUTH mechanism on this connection, and credentials are configured' });
      }
      connection.login({ user: options.credentials.user, pass: options.credentials.pass }, (loginError) => {
        if (loginError) return fail(failureOf(loginError));
        authMethod = (connection as unknown as { _authMethod?: string })._authMethod || undefined;
        send();
      });
    });
  });
}

function describeTls(connection: SMTPConnection, implicit: boolean): string {
  const socket = (connection as unknown as { _socket?: { getProtocol?: () => string | null } })._socket;
  const protocol = typeof socket?.getProtocol === 'function' ? socket.getProtocol() : null;
  return `${implicit ? 'implicit TLS' : 'STARTTLS'}${protocol ? ` (${protocol})` : ''}, certificate verified`;
}

function failureOf(error: unknown): SmtpFailure {
  if (!error || typeof error !== 'object') return { message: String(error) };
  const e = error as { code?: unknown; originalCode?: unknown; responseCode?: unknown; response?: unknown; command?: unknown; message?: unknown; timeoutType?: unknown; rejectedErrors?: unknown; rejected?: unknown };
  const failure: SmtpFailure = { message: typeof e.message === 'string' ? e.message : 'SMTP error' };
  if (typeof e.code === 'string') failure.code = e.code;
  if (typeof e.originalCode === 'string') failure.originalCode = e.originalCode;
  if (typeof e.responseCode === 'number') failure.responseCode = e.responseCode;
  if (typeof e.response === 'string') failure.response = e.response;
  if (typeof e.command === 'string') failure.command = e.command;
  if (Array.isArray(e.rejectedErrors)) {
    failure.rejected = (e.rejectedErrors as { recipient?: unknown; response?: unknown }[]).map((item) => ({
      recipient: typeof item.recipient === 'string' ? item.recipient : '?',
      response: typeof item.response === 'string' ? item.response : '',
    }));
  }
  return failure;
}

// ---------------------------------------------------------------------------------------------
// Errors: stable codes, retryable only for connect failures, timeouts and 4xx; never for 5xx

const TLS_ERROR = /CERT|SSL|TLS|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)|HOSTNAME|EPROTO/i;
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EPIPE', 'ECONNABORTED', 'EHOSTDOWN', 'ENETDOWN']);

export function toDeliveryError(failure: SmtpFailure, where: { host: string; address: string; port: number; secrets: string[] }): DeliveryError {
  const server = `${where.host}:${where.port}${where.address !== where.host ? ` (${where.address})` : ''}`;
  const reply = failure.response ? scrub(failure.response, where.secrets) : '';
  const code = failure.responseCode ?? (reply ? replyCode(reply) : undefined);
  // RFC 5321: 4yz is transient, 5yz permanent. Never retry a 5xx, whatever step it came from.
  const transient = code !== undefined && code >= 400 && code < 500;
  const withCode = (details: { retryable: boolean }) => (code !== undefined ? { ...details, responseCode: code } : details);
  const said = reply ? `: ${reply}` : '';

  if (failure.kind === 'timeout' || failure.code === 'ETIMEDOUT') {
    return new DeliveryError('SMTP_TIMEOUT', `timed out talking to the mail server ${server}`, { retryable: true });
  }
  if (failure.code === 'ETLS' || (failure.originalCode && TLS_ERROR.test(failure.originalCode)) || (!code && TLS_ERROR.test(failure.message) && /certificate|TLS|SSL/i.test(failure.message))) {
    if (failure.command === 'STARTTLS' && code !== undefined) {
      return new DeliveryError('SMTP_TLS_FAILED', `the mail server ${server} refused STARTTLS${said}; sendgate never sends e-mail (or credentials) unencrypted`, withCode({ retryable: transient }));
    }
    const why = failure.originalCode && TLS_ERROR.test(failure.originalCode) ? failure.originalCode : scrub(failure.message, where.secrets).slice(0, MAX_REPLY_CHARS);
    return new DeliveryError('SMTP_TLS_FAILED', `TLS with the mail server ${server} failed (${why})${said && !why.includes(reply) ? said : ''}; nothing was sent without verified encryption`, withCode({ retryable: transient }));
  }
  if (failure.kind === 'no-auth') {
    return new DeliveryError('SMTP_AUTH_FAILED', `the mail server ${server} offers no authentication, but credentials are configured; nothing was sent unauthenticated`, { retryable: false });
  }
  if (failure.code === 'EAUTH') {
    return new DeliveryError('SMTP_AUTH_FAILED', `the mail server ${server} refused the login${said}`, withCode({ retryable: transient }));
  }
  if (failure.code === 'EENVELOPE' && failure.command === 'RCPT TO') {
    const rejected = failure.rejected ?? [];
    const refused = rejected.map((item) => `${item.recipient} (${scrub(item.response, where.secrets).slice(0, 160) || 'refused'})`);
    const who = refused.length ? refused.join(', ') : reply;
    const partial = failure.kind === 'partial-reject' ? '; the message was sent to nobody' : '';
    // One permanent refusal among several makes the whole send permanent: a retry would meet it again.
    const replyCodes = [code, ...rejected.map((item) => replyCode(item.response))].filter((value): value is number => value !== undefined);
    const permanent = replyCodes.find((value) => value >= 500);
    const decisive = permanent ?? replyCodes[0];
    const retryable = permanent === undefined && decisive !== undefined && decisive >= 400 && decisive < 500;
    return new DeliveryError('SMTP_RECIPIENT_REJECTED', `the mail server ${server} refused recipient(s) ${who}${partial}`, decisive !== undefined ? { retryable, responseCode: decisive } : { retryable });
  }
  if (code !== undefined) {
    const step = failure.command ? ` at ${failure.command}` : '';
    return new DeliveryError('SMTP_REJECTED', `the mail server ${server} refused the message${step}${said}`, withCode({ retryable: transient }));
  }
  const system = failure.originalCode ?? (failure.code && CONNECT_ERRORS.has(failure.code) ? failure.code : undefined);
  if ((system && CONNECT_ERRORS.has(system)) || failure.code === 'ECONNECTION' || failure.code === 'ESOCKET') {
    const detail = system ?? scrub(failure.message, where.secrets).slice(0, 120);
    return new DeliveryError('SMTP_CONNECT_FAILED', `cannot talk to the mail server ${server} (${detail})`, { retryable: true });
  }
  return new DeliveryError('SMTP_REJECTED', `the SMTP session with ${server} failed: ${scrub(failure.message, where.secrets).slice(0, MAX_REPLY_CHARS)}`, { retryable: false });
}

function replyCode(reply: string): number | undefined {
  const match = /^([2-5]\d\d)\b/.exec(reply.trim());
  return match ? Number(match[1]) : undefined;
}

/** Every spelling of a credential a server could echo back: plain, base64, and the AUTH PLAIN blob. */
function secretSpellings(credentials: SmtpCredentials): string[] {
  const { user, pass } = credentials;
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [pass, b64(pass), b64(`\0${user}\0${pass}`), b64(`${user}\0${user}\0${pass}`), user.length >= 3 ? user : '', user.length >= 3 ? b64(user) : '']
    .filter((item) => item.length >= 3)
    .sort((a, b) => b.length - a.length);
}

function scrub(text: string, secrets: string[]): string {
  let out = text.replace(/[\r\n]+/g, ' ').trim();
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out.length > MAX_REPLY_CHARS ? `${out.slice(0, MAX_REPLY_CHARS)}…` : out;
}
