/**
 * What of a message is inspected (payload text) and what an approval is bound to (digest).
 */
import { createHash } from 'node:crypto';
import type { Message } from './types.ts';

/** Every part of the message that leaves the machine and can carry data, joined for scanning. */
export function payloadText(message: Message): string {
  switch (message.protocol) {
    case 'http':
      return [...Object.entries(message.headers).map(([name, value]) => `${name}: ${value}`), message.body].join('\n');
    case 'smtp':
      return [message.subject, message.text, message.html ?? ''].filter(Boolean).join('\n');
    case 'xmpp':
      return message.body;
  }
}

/** The bytes counted against payload.max_bytes. */
export function payloadBytes(message: Message): number {
  return Buffer.byteLength(payloadText(message), 'utf8');
}

/** Canonical JSON (sorted keys) so the same message always has the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The digest an approval is bound to: protocol, normalised destination and the whole message. */
export function sendDigest(protocol: string, destination: string, message: Message): string {
  return sha256Hex(canonicalJson({ protocol, destination, message }));
}
