/**
 * Where a transport connects for a target: the URL's host for HTTP and smtp:// servers, the
 * configured server for e-mail addresses and JIDs (recipients are reached through it).
 */
import type { Policy } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { normalizeHost, type HostKind } from './host.ts';
import { normalizeJid, type Target } from './parse.ts';

export interface EndpointAddress {
  host: string;
  hostKind: HostKind;
  port: number;
  /** smtps / xmpps: TLS from the first byte. */
  tls: 'implicit' | 'starttls' | 'https' | 'none';
}

export function endpointFor(target: Target, policy: Policy): EndpointAddress {
  if (target.kind === 'url') {
    const tls = target.scheme === 'https' ? 'https' : target.scheme === 'smtps' ? 'implicit' : target.scheme === 'smtp' ? 'starttls' : 'none';
    return { host: target.host, hostKind: target.hostKind, port: target.port!, tls };
  }
  if (target.kind === 'email') {
    if (!policy.smtp.server) {
      throw new ConfigError('sending to an e-mail address needs `smtp.server: smtp://host:587` in the policy (or pass --destination smtp://host:port with the recipients in the message)', { keyPath: 'smtp.server', code: 'CONFIG_MISSING' });
    }
    return serviceEndpoint(policy.smtp.server, 'smtp.server', { smtp: [587, 'starttls'], smtps: [465, 'implicit'] });
  }
  if (policy.xmpp.service) return serviceEndpoint(policy.xmpp.service, 'xmpp.service', { xmpp: [5222, 'starttls'], xmpps: [5223, 'implicit'] });
  if (!policy.xmpp.jid) {
    throw new ConfigError('sending over XMPP needs the agent account: set `xmpp.jid` (and the password in the environment) in the policy', { keyPath: 'xmpp.jid', code: 'CONFIG_MISSING' });
  }
  const account = normalizeJid(policy.xmpp.jid);
  if (!account?.local) throw new ConfigError(`xmpp.jid "${policy.xmpp.jid}" is not a user@domain JID`, { keyPath: 'xmpp.jid' });
  return { host: account.domain, hostKind: 'name', port: 5222, tls: 'starttls' };
}

function serviceEndpoint(service: string, keyPath: string, defaults: Record<string, [number, EndpointAddress['tls']]>): EndpointAddress {
  const match = /^([a-z]+):\/\/(.+?)(?::(\d+))?$/i.exec(service);
  const scheme = match?.[1]?.toLowerCase() ?? '';
  const known = defaults[scheme];
  const host = match ? normalizeHost(match[2]!) : null;
  if (!match || !known || !host) throw new ConfigError(`${keyPath} "${service}" is not ${Object.keys(defaults).map((s) => `${s}://host[:port]`).join(' or ')}`, { keyPath });
  const port = match[3] ? Number(match[3]) : known[0];
  if (port < 1 || port > 65_535) throw new ConfigError(`${keyPath} "${service}" has an invalid port`, { keyPath });
  return { host: host.host, hostKind: host.kind, port, tls: known[1] };
}
