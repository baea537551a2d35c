/**
 * The XMPP account sendgate speaks as: the JID from the policy, the password from the environment
 * variable named by `xmpp.password_env` or from the 0600 file named by `xmpp.password_file` (never
 * from the policy text or the command line; read by config/credentials.ts, as for SMTP), and the CA
 * to trust for a private server.
 * Kept apart from the SMTP transport so the xmpp_send bundle does not carry nodemailer.
 */
import { readFileSync } from 'node:fs';
import { expandHome, readSecretSetting } from '../config/credentials.ts';
import type { Policy } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { normalizeJid, type Jid } from '../target/parse.ts';
import { parseAnchors } from './xmpp-tls.ts';

export interface XmppAccount {
  jid: Jid & { local: string };
  password: string;
}

export function xmppAccountJid(policy: Policy): Jid & { local: string } {
  if (!policy.xmpp.jid) {
    throw new ConfigError('sending over XMPP needs the agent\'s account: set `xmpp.jid: agent@example.com` in the policy (the password goes in the environment variable named by xmpp.password_env, or a 0600 file named by xmpp.password_file)', { keyPath: 'xmpp.jid', code: 'CONFIG_MISSING' });
  }
  const jid = normalizeJid(policy.xmpp.jid);
  if (!jid?.local || jid.resource) throw new ConfigError(`xmpp.jid "${policy.xmpp.jid}" is not a bare local@domain JID`, { keyPath: 'xmpp.jid' });
  return jid as Jid & { local: string };
}

export function xmppAccount(policy: Policy, env: NodeJS.ProcessEnv): XmppAccount {
  const jid = xmppAccountJid(policy);
  const { password_env: passwordEnv, password_file: passwordFile } = policy.xmpp;
  // The file, when set, wins; it yields a non-empty password or throws, so null means no file.
  const password = readSecretSetting({ envName: passwordEnv, file: passwordFile, keyPath: 'xmpp.password_file', env });
  if (password) return { jid, password };
  if (passwordEnv) {
    throw new ConfigError(`the XMPP password for ${jid.bare} is not set: export ${passwordEnv} (named by xmpp.password_env), or set xmpp.password_file to a 0600 file`, { keyPath: 'xmpp.password_env', code: 'CONFIG_MISSING' });
  }
  throw new ConfigError('no XMPP password source: set xmpp.password_env (an environment variable name) or xmpp.password_file (a 0600 file)', { keyPath: 'xmpp.password_env', code: 'CONFIG_MISSING' });
}

/**
 * The CA(s) to trust for the XMPP server: with xmpp.ca_file, exactly the certificates in that file
 * (a private server is verified against its own CA only, see xmpp-tls.ts: stricter than adding it
 * to the public roots, and it spares every run parsing Node's ~140 root certificates, ~20 ms);
 * null = the public roots Node ships, with Node's standard verification.
 */
export function xmppTrustedCas(policy: Policy): string | null {
  if (!policy.xmpp.ca_file) return null;
  const file = expandHome(policy.xmpp.ca_file);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`xmpp.ca_file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { keyPath: 'xmpp.ca_file', file, code: 'CONFIG_UNREADABLE' });
  }
  let count = 0;
  try {
    count = parseAnchors(pem).length;
  } catch (error) {
    throw new ConfigError(`xmpp.ca_file: ${file} holds a certificate that cannot be parsed (${(error as Error).message})`, { keyPath: 'xmpp.ca_file', file });
  }
  if (count === 0) throw new ConfigError(`xmpp.ca_file: ${file} holds no PEM certificate`, { keyPath: 'xmpp.ca_file', file });
  return pem;
}

/** Everything a send needs from the configuration, checked before any state changes (exit 78 when wrong). */
export function xmppPreflight(policy: Policy, env: NodeJS.ProcessEnv): void {
  xmppAccount(policy, env);
  xmppTrustedCas(policy);
}
