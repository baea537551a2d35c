/**
 * Turn `--message` (JSON or text) into a typed message for the protocol. A value that looks like
 * JSON but does not parse is a usage error, never silently sent as text.
 */
import { UsageError } from '../errors.ts';
import type { Protocol } from '../contract.ts';
import type { HttpMessage, MailMessage, Message, XmppMessage } from './types.ts';

const HTTP_ENVELOPE_KEYS = new Set(['method', 'headers', 'body', 'json', 'content_type']);
const HTTP_METHODS = new Set(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']);
// Hop-by-hop and framing headers are the transport's business; letting a message set them would desync the request.
const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'expect']);

export function parseMessage(raw: string, protocol: Protocol): Message {
  const json = parseJsonIfJson(raw);
  switch (protocol) {
    case 'http':
      return httpMessage(raw, json);
    case 'smtp':
      return mailMessage(json);
    case 'xmpp':
      return xmppMessage(raw, json);
  }
}

function parseJsonIfJson(raw: string): { value: unknown } | null {
  const trimmed = raw.trim();
  if (!/^[[{]/.test(trimmed)) return null;
  try {
    return { value: JSON.parse(trimmed) };
  } catch (error) {
    throw new UsageError(`--message looks like JSON but does not parse: ${(error as Error).message}. Fix the JSON, or pass plain text that does not start with "{" or "["`, 'MESSAGE_INVALID');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function httpMessage(raw: string, json: { value: unknown } | null): HttpMessage {
  if (!json) return { protocol: 'http', method: 'POST', headers: {}, body: raw, contentType: 'text/plain; charset=utf-8' };
  const value = json.value;
  const isEnvelope = isRecord(value) && ('body' in value || 'json' in value) && Object.keys(value).every((key) => HTTP_ENVELOPE_KEYS.has(key));
  if (!isEnvelope) {
    return { protocol: 'http', method: 'POST', headers: {}, body: JSON.stringify(value), contentType: 'application/json' };
  }
  const method = value.method === undefined ? 'POST' : String(value.method).toUpperCase();
  if (!HTTP_METHODS.has(method)) throw new UsageError(`--message: method "${String(value.method)}" is not one of ${[...HTTP_METHODS].join(', ')}`, 'MESSAGE_INVALID');
  const headers: Record<string, string> = {};
  if (value.headers !== undefined) {
    if (!isRecord(value.headers)) throw new UsageError('--message: "headers" must be an object of header names to string values', 'MESSAGE_INVALID');
    for (const [name, headerValue] of Object.entries(value.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`--message: "${name}" is not a valid header name`, 'MESSAGE_INVALID');
      if (typeof headerValue !== 'string' || /[\r\n\0]/.test(headerValue)) throw new UsageError(`--message: header "${name}" must be a single-line string`, 'MESSAGE_INVALID');
      if (FORBIDDEN_HEADERS.has(name.toLowerCase())) throw new UsageError(`--message: header "${name}" is set by the transport and cannot be given`, 'MESSAGE_INVALID');
      headers[name] = headerValue;
    }
  }
  if ('json' in value && 'body' in value) throw new UsageError('--message: give either "body" (text) or "json" (a value sent as JSON), not both', 'MESSAGE_INVALID');
  let body: string;
  let contentType: string;
  if ('json' in value) {
    body = JSON.stringify(value.json);
    contentType = 'application/json';
  } else if (typeof value.body === 'string') {
    body = value.body;
    contentType = 'text/plain; charset=utf-8';
  } else {
    body = JSON.stringify(value.body);
    contentType = 'application/json';
  }
  if (value.content_type !== undefined) {
    if (typeof value.content_type !== 'string' || /[\r\n]/.test(value.content_type)) throw new UsageError('--message: "content_type" must be a single-line string', 'MESSAGE_INVALID');
    contentType = value.content_type;
  }
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === 'content-type') {
      contentType = headers[name]!;
      delete headers[name];
    }
  }
  return { protocol: 'http', method, headers, body, contentType };
}

const MAIL_KEYS = new Set(['to', 'cc', 'bcc', 'subject', 'body', 'text', 'html']);

function addressList(value: unknown, key: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
    throw new UsageError(`--message: "${key}" must be an e-mail address or a list of them`, 'MESSAGE_INVALID');
  }
  return (list as string[]).map((item) => item.trim()).filter(Boolean);
}

function mailMessage(json: { value: unknown } | null): MailMessage {
  if (!json || !isRecord(json.value)) {
    throw new UsageError('--message for smtp must be a JSON object: {"to": "a@example.com", "subject": "...", "body": "..."}', 'MESSAGE_INVALID');
  }
  const value = json.value;
  const unknown = Object.keys(value).filter((key) => !MAIL_KEYS.has(key));
  if (unknown.length) throw new UsageError(`--message: unknown e-mail field(s) ${unknown.join(', ')} (known: ${[...MAIL_KEYS].join(', ')})`, 'MESSAGE_INVALID');
  const text = value.body ?? value.text;
  if (typeof text !== 'string') throw new UsageError('--message: "body" (the text of the e-mail) must be a string', 'MESSAGE_INVALID');
  if (value.subject !== undefined && (typeof value.subject !== 'string' || /[\r\n]/.test(value.subject))) {
    throw new UsageError('--message: "subject" must be a single-line string', 'MESSAGE_INVALID');
  }
  if (value.html !== undefined && typeof value.html !== 'string') throw new UsageError('--message: "html" must be a string', 'MESSAGE_INVALID');
  return {
    protocol: 'smtp',
    to: addressList(value.to, 'to'),
    cc: addressList(value.cc, 'cc'),
    bcc: addressList(value.bcc, 'bcc'),
    subject: (value.subject as string | undefined) ?? '',
    text,
    html: (value.html as string | undefined) ?? null,
  };
}

function xmppMessage(raw: string, json: { value: unknown } | null): XmppMessage {
  if (!json) return { protocol: 'xmpp', body: raw, type: 'chat' };
  const value = json.value;
  if (!isRecord(value) || typeof value.body !== 'string' || Object.keys(value).some((key) => key !== 'body' && key !== 'type')) {
    throw new UsageError('--message for xmpp is plain text, or {"body": "...", "type": "chat"|"groupchat"}', 'MESSAGE_INVALID');
  }
  if (value.type !== undefined && value.type !== 'chat' && value.type !== 'groupchat') {
    throw new UsageError('--message: "type" must be "chat" or "groupchat"', 'MESSAGE_INVALID');
  }
  return { protocol: 'xmpp', body: value.body, type: (value.type as 'chat' | 'groupchat' | undefined) ?? 'chat' };
}
