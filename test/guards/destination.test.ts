import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/contract.ts';
import { destinationGuard } from '../../src/guards/destination.ts';
import { targetGuard } from '../../src/guards/target.ts';
import { ConfigError } from '../../src/errors.ts';
import { guard, makePolicy } from '../support/guards.ts';

type Code = 'DESTINATION_NOT_ALLOWED' | 'DESTINATION_DENIED' | 'PORT_NOT_ALLOWED' | null;

interface Row {
  allow?: string[];
  deny?: string[];
  ports?: number[];
  destination: string;
  protocol?: Protocol;
  /** smtp: extra recipients in the message */
  to?: string[];
  expect: Code;
  /** the allowlist speaks about another kind of destination, so it is "not defined" for this one */
  otherKind?: true;
}

const ROWS: readonly Row[] = [
  // exact host
  { allow: ['hooks.example.com'], destination: 'https://hooks.example.com/x', expect: null },
  { allow: ['hooks.example.com'], destination: 'https://HOOKS.Example.com./x', expect: null },
  { allow: ['hooks.example.com'], destination: 'hooks.example.com:8080/x', expect: null },
  { allow: ['HOOKS.EXAMPLE.COM.'], destination: 'https://hooks.example.com/x', expect: null },
  { allow: ['hooks.example.com'], destination: 'https://evil.example.com/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['hooks.example.com'], destination: 'https://sub.hooks.example.com/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['hooks.example.com'], destination: 'https://xhooks.example.com/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['hooks.example.com'], destination: 'https://hooks.example.com.evil.net/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['hooks.example.com'], destination: 'https://hooks.example.co/x', expect: 'DESTINATION_NOT_ALLOWED' },
  // *.domain: any depth below, never the apex
  { allow: ['*.example.com'], destination: 'https://a.example.com/', expect: null },
  { allow: ['*.example.com'], destination: 'https://a.b.example.com/', expect: null },
  { allow: ['*.example.com'], destination: 'https://example.com/', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*.example.com'], destination: 'https://evilexample.com/', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*.example.com'], destination: 'https://example.com.evil.net/', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*.example.com'], destination: 'https://a.example.community/', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*.example.com', 'example.com'], destination: 'https://example.com/', expect: null },
  // host:port
  { allow: ['api.example.com:8443'], destination: 'https://api.example.com:8443/x', expect: null },
  { allow: ['api.example.com:8443'], destination: 'https://api.example.com/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['api.example.com:8443'], destination: 'http://api.example.com:8444/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['api.example.com:443'], destination: 'https://api.example.com/x', expect: null },
  { allow: ['api.example.com:443'], destination: 'http://api.example.com/x', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*.example.com:8443'], destination: 'https://a.example.com:8443/', expect: null },
  { allow: ['[2606:4700::1111]:443'], destination: 'https://[2606:4700::1111]/', expect: null },
  { allow: ['2606:4700::1111'], destination: 'http://[2606:4700:0:0::1111]:8080/', expect: null },
  { allow: ['2606:4700::1111'], destination: 'http://[2606:4700::1112]/', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['93.184.215.14'], destination: 'http://0x5d.0xb8.0xd7.0x0e/', expect: null },
  // URL prefixes end at a path boundary
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks/abc', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks?x=1', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks#top', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'HTTPS://API.EXAMPLE.COM/hooks/x', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'api.example.com/hooks/x', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com:443/hooks', expect: null },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks-evil', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooksevil', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks.json', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/Hooks', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/other', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks/../admin', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks/%2e%2e/admin', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com/hooks%2f..%2fadmin', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'http://api.example.com/hooks', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com:8443/hooks', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks'], destination: 'https://api.example.com.evil.net/hooks', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com/hooks/'], destination: 'https://api.example.com/hooks/x', expect: null },
  { allow: ['https://api.example.com/hooks/'], destination: 'https://api.example.com/hooks', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com'], destination: 'https://api.example.com/anything', expect: null },
  { allow: ['https://api.example.com'], destination: 'https://api.example.com.evil.net/', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['https://api.example.com./hooks'], destination: 'https://api.example.com/hooks', expect: null },
  // deny wins, and works with or without an allowlist
  { deny: ['*.evil.example'], destination: 'https://a.evil.example/', expect: 'DESTINATION_DENIED' },
  { deny: ['*.evil.example'], destination: 'https://good.example.org/', expect: null },
  { allow: ['*.example.com'], deny: ['admin.example.com'], destination: 'https://admin.example.com/', expect: 'DESTINATION_DENIED' },
  { allow: ['*.example.com'], deny: ['admin.example.com'], destination: 'https://www.example.com/', expect: null },
  { allow: ['admin.example.com'], deny: ['admin.example.com'], destination: 'https://admin.example.com/', expect: 'DESTINATION_DENIED' },
  { allow: ['https://api.example.com/'], deny: ['https://api.example.com/admin'], destination: 'https://api.example.com/admin/users', expect: 'DESTINATION_DENIED' },
  { allow: ['https://api.example.com/'], deny: ['https://api.example.com/admin'], destination: 'https://api.example.com/administrators', expect: null },
  { deny: ['10.0.0.1'], destination: 'http://10.1/', expect: 'DESTINATION_DENIED' },
  { deny: ['ops@example.com'], destination: 'mailto:OPS@example.com', protocol: 'smtp', expect: 'DESTINATION_DENIED' },
  { deny: ['*@example.com'], destination: 'a@example.com', protocol: 'smtp', expect: 'DESTINATION_DENIED' },
  { deny: ['*@example.com'], destination: 'mailto:a@example.org', protocol: 'smtp', to: ['b@example.com'], expect: 'DESTINATION_DENIED' },
  { deny: ['xmpp:troll@example.com'], destination: 'xmpp:Troll@example.com/home', protocol: 'xmpp', expect: 'DESTINATION_DENIED' },
  { deny: ['smtp://*.evil.example'], destination: 'smtp://mx.evil.example:25', protocol: 'smtp', expect: 'DESTINATION_DENIED' },
  // SMTP server patterns
  { allow: ['smtp://mail.example.com:587'], destination: 'smtp://mail.example.com', protocol: 'smtp', expect: null },
  { allow: ['smtp://mail.example.com:587'], destination: 'mail.example.com', protocol: 'smtp', expect: null },
  { allow: ['smtp://mail.example.com:587'], destination: 'smtp://mail.example.com:25', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['smtp://mail.example.com:587'], destination: 'smtps://mail.example.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['smtp://mail.example.com'], destination: 'smtps://mail.example.com', protocol: 'smtp', expect: null },
  { allow: ['smtp://mail.example.com'], destination: 'smtp://other.example.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['smtp://*.example.com'], destination: 'smtp://mx1.example.com:25', protocol: 'smtp', expect: null },
  { allow: ['smtp://*.example.com'], destination: 'smtp://example.com:25', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['mail.example.com'], destination: 'smtp://mail.example.com:2525', protocol: 'smtp', expect: null },
  { allow: ['smtp://mail.example.com'], destination: 'smtp://mail.example.com', protocol: 'smtp', to: ['anyone@example.org'], expect: null },
  { allow: ['smtp://mail.example.com', '*@example.com'], destination: 'smtp://mail.example.com', protocol: 'smtp', to: ['x@example.org'], expect: 'DESTINATION_NOT_ALLOWED' },
  // e-mail recipients
  { allow: ['ops@example.com'], destination: 'mailto:ops@example.com', protocol: 'smtp', expect: null },
  { allow: ['ops@example.com'], destination: 'mailto:Ops@Example.COM', protocol: 'smtp', expect: null },
  { allow: ['mailto:ops@example.com'], destination: 'ops@example.com', protocol: 'smtp', expect: null },
  { allow: ['ops@example.com'], destination: 'mailto:ops@example.com,ceo@example.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['ops@example.com'], destination: 'other@example.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['ops@example.com'], destination: 'mailto:ops@example.com', protocol: 'smtp', to: ['ceo@example.com'], expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['ops@example.com'], destination: 'ops@example.com.evil.net', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*@example.com'], destination: 'a@example.com', protocol: 'smtp', expect: null },
  { allow: ['*@example.com'], destination: 'mailto:a@example.com,b@EXAMPLE.com', protocol: 'smtp', expect: null },
  { allow: ['*@example.com'], destination: 'a@sub.example.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*@example.com'], destination: 'a@example.com.evil.net', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*@example.com'], destination: 'a@notexample.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['*@*.example.com'], destination: 'a@sub.example.com', protocol: 'smtp', expect: null },
  { allow: ['*@*.example.com'], destination: 'a@example.com', protocol: 'smtp', expect: 'DESTINATION_NOT_ALLOWED' },
  // JIDs and JID domains
  { allow: ['xmpp:alice@example.com'], destination: 'alice@example.com', protocol: 'xmpp', expect: null },
  { allow: ['xmpp:alice@example.com'], destination: 'xmpp:Alice@Example.com/phone', protocol: 'xmpp', expect: null },
  { allow: ['xmpp:alice@example.com'], destination: 'bob@example.com', protocol: 'xmpp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['xmpp:alice@example.com'], destination: 'example.com', protocol: 'xmpp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['xmpp:example.com'], destination: 'xmpp:anyone@example.com', protocol: 'xmpp', expect: null },
  { allow: ['xmpp:example.com'], destination: 'example.com', protocol: 'xmpp', expect: null },
  { allow: ['xmpp:example.com'], destination: 'room@conference.example.com', protocol: 'xmpp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['xmpp:*.example.com'], destination: 'room@conference.example.com', protocol: 'xmpp', expect: null },
  { allow: ['xmpp:*@conference.example.com'], destination: 'xmpp:room@conference.example.com?join', protocol: 'xmpp', expect: null },
  { allow: ['xmpp:*@conference.example.com'], destination: 'room@conference.example.org', protocol: 'xmpp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['xmpp:*@example.com'], destination: 'example.com', protocol: 'xmpp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['alice@example.com'], destination: 'alice@example.com', protocol: 'xmpp', expect: null },
  { allow: ['alice@example.com'], destination: 'alice@example.com', protocol: 'smtp', expect: null },
  { allow: ['mailto:alice@example.com'], destination: 'alice@example.com', protocol: 'xmpp', expect: null, otherKind: true },
  { allow: ['mailto:alice@example.com', 'xmpp:bob@example.com'], destination: 'alice@example.com', protocol: 'xmpp', expect: 'DESTINATION_NOT_ALLOWED' },
  { allow: ['xmpp:alice@example.com'], destination: 'bob@example.com', protocol: 'smtp', expect: null, otherKind: true },
  // an allowlist for one kind does not block another kind
  { allow: ['hooks.example.com'], destination: 'xmpp:alice@example.org', protocol: 'xmpp', expect: null, otherKind: true },
  { allow: ['hooks.example.com'], destination: 'mailto:ops@example.org', protocol: 'smtp', expect: null, otherKind: true },
  { allow: ['https://hooks.example.com/x'], destination: 'smtp://mail.example.org', protocol: 'smtp', expect: null, otherKind: true },
  { allow: ['*@example.com'], destination: 'https://hooks.example.org/', expect: null, otherKind: true },
  { allow: ['xmpp:example.com'], destination: 'https://hooks.example.org/', expect: null, otherKind: true },
  { allow: ['smtp://mail.example.com'], destination: 'https://hooks.example.org/', expect: null, otherKind: true },
  { allow: ['*@example.com', 'hooks.example.com'], destination: 'https://other.example.org/', expect: 'DESTINATION_NOT_ALLOWED' },
  // allowed_ports
  { ports: [443], destination: 'https://example.org/', expect: null },
  { ports: [443], destination: 'http://example.org/', expect: 'PORT_NOT_ALLOWED' },
  { ports: [443], destination: 'https://example.org:8443/', expect: 'PORT_NOT_ALLOWED' },
  { ports: [443, 8443], destination: 'example.org:8443', expect: null },
  { ports: [8443], allow: ['api.example.com:8443'], destination: 'https://api.example.com:8443/', expect: null },
  { ports: [587], destination: 'mailto:ops@example.org', protocol: 'smtp', expect: null },
  { ports: [465], destination: 'mailto:ops@example.org', protocol: 'smtp', expect: 'PORT_NOT_ALLOWED' },
  { ports: [25], destination: 'smtp://mail.example.org:25', protocol: 'smtp', expect: null },
  { ports: [25], destination: 'smtp://mail.example.org', protocol: 'smtp', expect: 'PORT_NOT_ALLOWED' },
  { ports: [443], destination: 'xmpp:alice@example.org', protocol: 'xmpp', expect: 'PORT_NOT_ALLOWED' },
  { ports: [5222], destination: 'xmpp:alice@example.org', protocol: 'xmpp', expect: null },
];

const ONLY_LISTS = [targetGuard, destinationGuard];

function policyFor(row: Pick<Row, 'allow' | 'deny' | 'ports'>) {
  return makePolicy({
    destinations: { allow: row.allow ?? [], deny: row.deny ?? [] },
    network: { allowed_ports: row.ports ?? [] },
    smtp: { server: 'smtp://smtp.example.net:587' },
    xmpp: { jid: 'agent@example.net' },
  });
}

function label(row: Row): string {
  const lists = [row.allow && `allow ${JSON.stringify(row.allow)}`, row.deny && `deny ${JSON.stringify(row.deny)}`, row.ports && `ports ${JSON.stringify(row.ports)}`].filter(Boolean).join(' ');
  return `${lists}: ${row.protocol ?? 'http'} ${row.destination}${row.to ? ` + to ${row.to.join(',')}` : ''} -> ${row.expect ?? 'pass'}`;
}

describe('destination allow / deny lists', () => {
  it.each(ROWS.map((row) => [label(row), row] as const))('%s', async (_label, row) => {
    const protocol = row.protocol ?? 'http';
    const message = protocol === 'smtp' ? JSON.stringify({ to: row.to ?? [], subject: 's', body: 'b' }) : undefined;
    const outcome = await guard(row.destination, protocol, { policy: policyFor(row), guards: ONLY_LISTS, ...(message ? { message } : {}) });
    expect(outcome.constraints.find((c) => c.guard === 'target')).toBeUndefined();
    expect(outcome.code).toBe(row.expect);
    if (row.expect === null && row.allow?.length && !row.otherKind) {
      expect(outcome.constraints.some((c) => c.code === 'DESTINATION_ALLOWED' && c.result === 'pass')).toBe(true);
    }
    if (row.otherKind) expect(outcome.constraints.filter((c) => c.guard === 'destination')).toEqual([]);
    if (row.expect === 'DESTINATION_DENIED') expect(outcome.reason).toMatch(/matches the deny list entry/);
  });

  it('runs before the network guard: a denied name is never resolved', async () => {
    const outcome = await guard('https://a.evil.example/', 'http', { policy: policyFor({ deny: ['*.evil.example'] }), dns: { '*': ['93.184.215.14'] } });
    expect(outcome.code).toBe('DESTINATION_DENIED');
    expect(outcome.lookups).toEqual([]);
  });

  it('an allowlisted destination still has to pass the network guard', async () => {
    const outcome = await guard('https://hooks.example.com/x', 'http', { policy: policyFor({ allow: ['hooks.example.com'] }), dns: { 'hooks.example.com': ['10.0.0.8'] } });
    expect(outcome.code).toBe('NETWORK_INTERNAL');
  });

  it('names the entry that matched, and says what to do when nothing did', async () => {
    const denied = await guard('https://admin.example.com/', 'http', { policy: policyFor({ deny: ['admin.example.com'] }), guards: ONLY_LISTS });
    expect(denied.constraints.at(-1)?.detail).toEqual({ entry: 'admin.example.com' });
    const notAllowed = await guard('https://x.example.org/', 'http', { policy: policyFor({ allow: ['hooks.example.com'] }), guards: ONLY_LISTS });
    expect(notAllowed.reason).toMatch(/destinations\.allow/);
  });

  it('sending to an e-mail address without smtp.server is a configuration error (exit 78), not a pass', async () => {
    await expect(guard('ops@example.com', 'smtp', { policy: makePolicy({ network: { allowed_ports: [587] } }), guards: ONLY_LISTS })).rejects.toBeInstanceOf(ConfigError);
  });

  it('has a wide table', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(100);
    expect(ROWS.filter((row) => row.expect !== null).length).toBeGreaterThanOrEqual(50);
  });
});
