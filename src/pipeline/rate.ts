import type { Policy } from '../config/schema.ts';
import type { CallConstraints } from '../cli/send-args.ts';
import type { Message } from '../message/types.ts';
import type { Limit } from '../state/rate-limit.ts';
import type { Target } from '../target/parse.ts';
import { mailRecipients } from '../guards/destination.ts';

/** What one send counts as: one event per destination key (each e-mail recipient counts). */
export function rateKeys(target: Target, message: Message): string[] {
  switch (target.protocol) {
    case 'http':
      return [`http:${target.url!.origin}`];
    case 'smtp':
      return mailRecipients(target, message).map((address) => `mailto:${address}`);
    case 'xmpp':
      return [`xmpp:${target.jid!.bare}`];
  }
}

export function limitsFor(policy: Policy, keys: readonly string[], call: CallConstraints): Limit[] {
  const rate = policy.rate_limit;
  const limits: Limit[] = [
    { name: 'rate_limit.max_messages_per_minute', count: rate.max_messages_per_minute, windowMs: 60_000, key: null },
    { name: 'rate_limit.max_messages_per_hour', count: rate.max_messages_per_hour, windowMs: 3_600_000, key: null },
  ];
  for (const key of keys) {
    limits.push({ name: `rate_limit.max_messages_per_destination_per_hour (${key})`, count: rate.max_messages_per_destination_per_hour, windowMs: 3_600_000, key });
    if (call.rate_limit) limits.push({ name: `constraints.rate_limit ${call.rate_limit.text} (${key})`, count: call.rate_limit.count, windowMs: call.rate_limit.windowMs, key });
    if (key.startsWith('xmpp:')) {
      limits.push({ name: `xmpp.max_messages_per_contact_per_hour (${key})`, count: policy.xmpp.max_messages_per_contact_per_hour, windowMs: 3_600_000, key });
    }
  }
  return limits;
}

/** Global limits count every event; a send with k keys needs k free slots in them. */
export function expandForKeys(limits: Limit[], keyCount: number): Limit[] {
  if (keyCount <= 1) return limits;
  return limits.map((limit) => (limit.key === null ? { ...limit, count: Math.max(0, limit.count - (keyCount - 1)) } : limit));
}
