import type { Protocol } from '../contract.ts';

export interface HttpMessage {
  protocol: 'http';
  method: string;
  headers: Record<string, string>;
  body: string;
  contentType: string;
}

export interface MailMessage {
  protocol: 'smtp';
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string;
  html: string | null;
}

export interface XmppMessage {
  protocol: 'xmpp';
  body: string;
  type: 'chat' | 'groupchat';
}

export type Message = HttpMessage | MailMessage | XmppMessage;
export type MessageFor<P extends Protocol> = Extract<Message, { protocol: P }>;
