/**
 * Agent attribution for XMPP (`xmpp.attribution`): a suffix appended to every body, so people can
 * tell the agent wrote it, and the resource the agent's connection binds, so clients that show the
 * sender's resource show who is speaking.
 *
 * The suffix is appended before the guards run, so the size limit, the secret scan, the drafted
 * message a human confirms and the approval digest all cover exactly the text that is sent.
 */
import { randomBytes } from 'node:crypto';
import type { Policy } from '../config/schema.ts';

/** The body with the configured suffix (once: a body that already ends with it is left alone). */
export function withAttributionSuffix(body: string, policy: Policy): string {
  const suffix = policy.xmpp.attribution.suffix;
  if (!suffix || body.endsWith(suffix)) return body;
  // A suffix that starts with its own whitespace is used as written; otherwise it goes on a new line.
  return /^\s/.test(suffix) ? `${body}${suffix}` : `${body}\n${suffix}`;
}

/**
 * The resource to bind: the configured one (default "sendgate") plus a short random tag, so two
 * sends running at once never collide (a server resolves a resource conflict by disconnecting one
 * of the sessions, which would lose its message).
 */
export function connectionResource(policy: Policy): string {
  const base = policy.xmpp.attribution.resource ?? 'sendgate';
  return `${base}.${randomBytes(3).toString('hex')}`;
}

/**
 * XML 1.0 cannot carry C0 control characters (other than tab, newline, carriage return), U+FFFE,
 * U+FFFF or unpaired surrogates: a server closes the stream on them. Returns the first offending
 * position, or -1.
 */
export function invalidXmlCharIndex(text: string): number {
  const match = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(text);
  return match ? match.index : -1;
}
