/**
 * A real SMTP server for tests: the npm `smtp-server` package (a protocol-complete server) on
 * 127.0.0.1, on a port chosen at run time, with a certificate from a CA generated for the run.
 * It records what arrived (envelope, raw message, parsed headers and text) and can be told to
 * misbehave: refuse a recipient (550) or defer it (451), answer the message with an error, hang
 * (before the greeting, or after the body), or refuse every login.
 *
 *   const pki = await createTestPki();                       // once per file
 *   const server = await startSmtpServer({ pki });            // STARTTLS + AUTH, user/pass below
 *   ... server.messages[0].header('subject') ...
 *   await server.stop();
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { createTestCa, issueServerCertificate } from './cli.ts';

export const SMTP_TEST_HOST = 'mail.sendgate.test';
export const SMTP_TEST_USER = 'agent@sendgate.test';
export const SMTP_TEST_PASSWORD = 'correct horse battery staple 7f3a';

export interface TestPki {
  dir: string;
  /** The CA that signed the server certificate: what `smtp.ca_file` points at. */
  caFile: string;
  caPem: string;
  key: string;
  cert: string;
  /** The names the server certificate is valid for. */
  names: { dns: string; ip: string };
  cleanup(): Promise<void>;
}

/** A throwaway CA and a server certificate for mail.sendgate.test and 127.0.0.1 (openssl). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'sendgate-smtp-pki-'));
  const ca = await createTestCa(dir, 'sendgate test CA');
  const issued = await issueServerCertificate(ca, join(dir, 'server'), { dns: [SMTP_TEST_HOST], ips: ['127.0.0.1'] });
  const [key, cert] = await Promise.all([readFile(issued.keyFile, 'utf8'), readFile(issued.certFile, 'utf8')]);
  return {
    dir, caFile: ca.caFile, caPem: ca.caPem, key, cert, names: { dns: SMTP_TEST_HOST, ip: '127.0.0.1' },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  /** The authenticated user of the session, if any. */
  user: string | null;
  /** TLS was in force when the message was sent (implicit or after STARTTLS). */
  secure: boolean;
  raw: string;
  /** Header fields, unfolded, in order; names lower-cased. RFC 2047 words are decoded. */
  headers: { name: string; value: string }[];
  header(name: string): string | undefined;
  /** The text/plain content, transfer-decoded. */
  text: string;
  /** The text/html content if any, transfer-decoded. */
  html: string | null;
  queueId: string;
}

export interface SmtpServerBehaviour {
  /** Recipients refused at RCPT TO with `550 5.1.1 ... User unknown`. */
  rejectRecipients: Set<string>;
  /** Recipients deferred at RCPT TO with `451 4.3.0 ... try again later`. */
  deferRecipients: Set<string>;
  /** Refuse every login with 535. */
  failAuth: boolean;
  /** `greeting`: accept the TCP (and TLS) connection, never greet. `data`: take the body, never answer it. */
  hang: 'greeting' | 'data' | null;
  /** Answer the end of the message with this error instead of 250 (e.g. {code: 554, text: '5.7.1 spam'}). */
  dataReply: { code: number; text: string } | null;
}

export interface StartOptions {
  pki: TestPki;
  /** starttls (default): plain connect, STARTTLS offered. implicit: TLS from the first byte. plaintext: STARTTLS not offered. */
  tls?: 'starttls' | 'implicit' | 'plaintext';
  /** Require AUTH (default true). false: AUTH optional (still offered). */
  requireAuth?: boolean;
  /** Offer no AUTH at all. */
  noAuth?: boolean;
  /** Serve this certificate/key instead of the PKI's (e.g. one for another name). */
  certificate?: { key: string; cert: string };
  behaviour?: Partial<SmtpServerBehaviour>;
  /** Listen on this port (e.g. to bring a server back where a failed send pointed); default: any free port. */
  port?: number;
}

export interface TestSmtpServer {
  host: '127.0.0.1';
  port: number;
  messages: ReceivedMail[];
  /** TCP connections accepted. */
  connections: number;
  /** MAIL FROM commands seen: one per transaction attempt. */
  transactions: number;
  /** Every RCPT TO seen, accepted or not. */
  rcptAttempts: string[];
  /** Successful logins, as user names. */
  logins: string[];
  /** Refused logins. */
  failedLogins: number;
  /** Messages whose body began but never completed (the client dropped the session in DATA). */
  abortedData: number;
  behaviour: SmtpServerBehaviour;
  reset(): void;
  stop(): Promise<void>;
}

export async function startSmtpServer(options: StartOptions): Promise<TestSmtpServer> {
  const mode = options.tls ?? 'starttls';
  const requireAuth = options.noAuth ? false : options.requireAuth ?? true;
  const behaviour: SmtpServerBehaviour = {
    rejectRecipients: new Set(), deferRecipients: new Set(), failAuth: false, hang: null, dataReply: null,
    ...options.behaviour,
  };
  const hung: (() => void)[] = [];
  const state: TestSmtpServer = {
    host: '127.0.0.1', port: 0, messages: [], connections: 0, transactions: 0, rcptAttempts: [], logins: [], failedLogins: 0, abortedData: 0, behaviour,
    reset() {
      state.messages.length = 0;
      state.connections = 0;
      state.transactions = 0;
      state.rcptAttempts.length = 0;
      state.logins.length = 0;
      state.failedLogins = 0;
      state.abortedData = 0;
    },
    stop: async () => undefined,
  };
  const certificate = options.certificate ?? { key: options.pki.key, cert: options.pki.cert };
  const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

  const server = new SMTPServer({
    secure: mode === 'implicit',
    key: certificate.key,
    cert: certificate.cert,
    name: SMTP_TEST_HOST,
    banner: 'sendgate test SMTP server',
    logger: false,
    disableReverseLookup: true,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !requireAuth,
    disabledCommands: [...(options.noAuth ? ['AUTH'] : []), ...(mode === 'plaintext' ? ['STARTTLS'] : [])],
    allowInsecureAuth: mode === 'plaintext',
    size: 10 * 1024 * 1024,
    socketTimeout: 30_000,
    closeTimeout: 200,
    onConnect(_session: SMTPServerSession, callback: (err?: Error | null) => void) {
      state.connections += 1;
      if (behaviour.hang === 'greeting') {
        hung.push(() => callback(smtpError(421, 'shutting down')));
        return;
      }
      callback();
    },
    onAuth(auth, _session, callback) {
      const ok = !behaviour.failAuth && auth.username === SMTP_TEST_USER && auth.password === SMTP_TEST_PASSWORD;
      if (!ok) {
        state.failedLogins += 1;
        return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      }
      state.logins.push(auth.username ?? '');
      callback(null, { user: auth.username });
    },
    onMailFrom(_address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
      state.transactions += 1;
      callback();
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const recipient = address.address.toLowerCase();
      state.rcptAttempts.push(recipient);
      if (behaviour.rejectRecipients.has(recipient)) return callback(smtpError(550, `5.1.1 <${recipient}>: Recipient address rejected: User unknown`));
      if (behaviour.deferRecipients.has(recipient)) return callback(smtpError(451, `4.3.0 <${recipient}>: Temporary failure, try again later`));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let failed = false;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', () => {
        failed = true;
        state.abortedData += 1;
      });
      stream.on('end', () => {
        if (failed) return;
        if (behaviour.hang === 'data') {
          hung.push(() => callback(smtpError(421, 'shutting down')));
          return;
        }
        if (behaviour.dataReply) return callback(smtpError(behaviour.dataReply.code, behaviour.dataReply.text));
        const queueId = randomBytes(5).toString('hex').toUpperCase();
        const raw = Buffer.concat(chunks).toString('utf8');
        state.messages.push(parseMail(raw, {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: typeof session.user === 'string' ? session.user : null,
          secure: session.secure,
          queueId,
        }));
        callback(null, `OK: queued as ${queueId}`);
      });
    },
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    const listener = server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    listener.once('error', reject);
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('the test SMTP server has no port');
  state.port = address.port;
  state.stop = () =>
    new Promise<void>((resolve) => {
      for (const release of hung.splice(0)) release();
      server.close(() => resolve());
    });
  return state;
}

// ---------------------------------------------------------------------------------------------
// A small MIME reader: enough for what nodemailer's MailComposer produces.

function parseMail(raw: string, meta: Omit<ReceivedMail, 'raw' | 'headers' | 'header' | 'text' | 'html'>): ReceivedMail {
  const { headers, body } = splitHeaders(raw);
  const parts = leafParts(headers, body);
  const text = parts.find((part) => part.type === 'text/plain')?.content ?? '';
  const html = parts.find((part) => part.type === 'text/html')?.content ?? null;
  return {
    ...meta,
    raw,
    headers,
    header: (name: string) => headers.find((header) => header.name === name.toLowerCase())?.value,
    text,
    html,
  };
}

function splitHeaders(raw: string): { headers: { name: string; value: string }[]; body: string } {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end >= 0 ? normalized.slice(0, end) : normalized;
  const body = end >= 0 ? normalized.slice(end + 2) : '';
  const headers: { name: string; value: string }[] = [];
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && headers.length) {
      headers[headers.length - 1]!.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  for (const header of headers) header.value = decodeWords(header.value);
  return { headers, body };
}

function leafParts(headers: { name: string; value: string }[], body: string): { type: string; content: string }[] {
  const contentType = headers.find((header) => header.name === 'content-type')?.value ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return [];
    const sections = body.split(`--${boundary}`).slice(1);
    const parts: { type: string; content: string }[] = [];
    for (const section of sections) {
      if (section.startsWith('--')) break;
      const inner = splitHeaders(section.replace(/^\n/, ''));
      parts.push(...leafParts(inner.headers, inner.body.replace(/\n$/, '')));
    }
    return parts;
  }
  const encoding = (headers.find((header) => header.name === 'content-transfer-encoding')?.value ?? '7bit').toLowerCase();
  let content: string;
  if (encoding === 'base64') content = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  else if (encoding === 'quoted-printable') content = decodeQuotedPrintable(body);
  else content = body;
  return [{ type, content: content.replace(/\r\n/g, '\n').replace(/\n$/, '') }];
}

function decodeQuotedPrintable(text: string): string {
  const softBreaksGone = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < softBreaksGone.length; i++) {
    const char = softBreaksGone[i]!;
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(softBreaksGone.slice(i + 1, i + 3))) {
      bytes.push(parseInt(softBreaksGone.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_match, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}
