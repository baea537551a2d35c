/**
 * SASL client mechanisms for XMPP: SCRAM-SHA-256, SCRAM-SHA-1 (RFC 5802 / RFC 7677) and PLAIN
 * (RFC 4616; the session offers it only over verified TLS).
 *
 * Why not @xmpp/sasl-scram-sha-1: it computes Hi() with one awaited WebCrypto HMAC per iteration,
 * which at Prosody's default 10 000 iterations costs hundreds of milliseconds per login. Hi() is
 * exactly PBKDF2-HMAC (RFC 5802 section 2.2, dkLen = hash length), which node:crypto computes
 * natively in a few milliseconds. This client also checks the server's signature (`v=`), so a
 * server that does not know the password cannot pretend the login succeeded.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = 'sha1' | 'sha256';
export const SCRAM_MECHANISMS: Record<string, ScramHash> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-1': 'sha1' };
/** Preference order: strongest first. PLAIN only when no SCRAM mechanism is offered. */
export const MECHANISM_PREFERENCE = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;
export type MechanismName = (typeof MECHANISM_PREFERENCE)[number];

/** A server asking for more than this is refused (a hostile server could stall the client for minutes). */
const MAX_ITERATIONS = 1_000_000;

export class SaslProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslProtocolError';
  }
}

/** Pick the mechanism to use from what the server offers. */
export function chooseMechanism(offered: readonly string[]): MechanismName | null {
  const set = new Set(offered.map((name) => name.toUpperCase()));
  return MECHANISM_PREFERENCE.find((name) => set.has(name)) ?? null;
}

/**
 * SASLprep (RFC 4013), the parts that matter for passwords people type: non-ASCII spaces become
 * U+0020, "commonly mapped to nothing" characters are dropped, the result is NFKC-normalised, and
 * control characters are refused. Printable ASCII (the usual case) passes unchanged.
 */
export function saslprep(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const mapped = value
    .replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g, ' ')
    .replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/g, '')
    .normalize('NFKC');
  if (/[\u0000-\u001f\u007f-\u009f\ufff9-\ufffd]/.test(mapped)) throw new SaslProtocolError('the password contains control characters SASLprep prohibits');
  return mapped;
}

/** RFC 5802 saslname: "=" and "," escaped. */
function saslname(value: string): string {
  return value.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new SaslProtocolError(`malformed SCRAM message attribute "${part.slice(0, 20)}"`);
    attributes.set(part[0]!, part.slice(2));
  }
  return attributes;
}

export interface ScramClient {
  readonly mechanism: string;
  /** client-first-message (sent with <auth/>). */
  first(): string;
  /** client-final-message for the server-first-message. */
  final(serverFirst: string): Promise<string>;
  /** Check the server-final-message (from <success/>); throws when the server's proof is wrong. */
  verify(serverFinal: string): void;
}

export interface ScramTimings {
  /** Milliseconds spent in Hi() (PBKDF2), for the benchmark. */
  hiMs: number;
  iterations: number;
}

export function scramClient(hash: ScramHash, username: string, password: string, nonce: string = randomBytes(18).toString('base64')): ScramClient & { timings: ScramTimings } {
  const mechanism = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
  const gs2Header = 'n,,';
  const clientFirstBare = `n=${saslname(saslprep(username))},r=${nonce}`;
  let expectedServerSignature: Buffer | null = null;
  const timings: ScramTimings = { hiMs: 0, iterations: 0 };
  const hmac = (key: Buffer, text: string | Buffer) => createHmac(hash, key).update(text).digest();

  return {
    mechanism,
    timings,
    first: () => `${gs2Header}${clientFirstBare}`,
    async final(serverFirst) {
      const attributes = parseAttributes(serverFirst);
      if (attributes.has('m')) throw new SaslProtocolError('the server requires a SCRAM extension this client does not support');
      const serverNonce = attributes.get('r');
      const saltText = attributes.get('s');
      const iterations = Number(attributes.get('i'));
      if (!serverNonce || !serverNonce.startsWith(nonce) || serverNonce.length <= nonce.length) throw new SaslProtocolError('the server\'s SCRAM nonce does not extend the client nonce');
      if (!saltText) throw new SaslProtocolError('the server sent no SCRAM salt');
      if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new SaslProtocolError(`the server asked for ${attributes.get('i')} SCRAM iterations`);
      const salt = Buffer.from(saltText, 'base64');
      const started = performance.now();
      // Hi(password, salt, i) is PBKDF2 with the HMAC of the mechanism's hash (RFC 5802, 2.2).
      const saltedPassword = await pbkdf2Async(saslprep(password), salt, iterations, hash === 'sha1' ? 20 : 32, hash);
      timings.hiMs = performance.now() - started;
      timings.iterations = iterations;
      const clientKey = hmac(saltedPassword, 'Client Key');
      const storedKey = createHash(hash).update(clientKey).digest();
      const clientFinalWithoutProof = `c=${Buffer.from(gs2Header).toString('base64')},r=${serverNonce}`;
      const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
      const clientSignature = hmac(storedKey, authMessage);
      const proof = Buffer.alloc(clientKey.length);
      for (let index = 0; index < clientKey.length; index += 1) proof[index] = clientKey[index]! ^ clientSignature[index]!;
      expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
      return `${clientFinalWithoutProof},p=${proof.toString('base64')}`;
    },
    verify(serverFinal) {
      if (!expectedServerSignature) throw new SaslProtocolError('the server finished SCRAM before the client proof was sent');
      const attributes = parseAttributes(serverFinal);
      const error = attributes.get('e');
      if (error) throw new SaslProtocolError(`the server rejected the SCRAM proof (${error})`);
      const signature = Buffer.from(attributes.get('v') ?? '', 'base64');
      if (signature.length !== expectedServerSignature.length || !timingSafeEqual(signature, expectedServerSignature)) {
        throw new SaslProtocolError('the server\'s SCRAM signature is wrong: it does not know this account\'s password (possible impersonation)');
      }
    },
  };
}

/** RFC 4616: authzid NUL authcid NUL password (no authzid). */
export function plainMessage(username: string, password: string): string {
  return `\u0000${saslprep(username)}\u0000${saslprep(password)}`;
}
