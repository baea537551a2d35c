/**
 * Shared fixtures for the egress tests: faked DNS (nothing is resolved for real), a temporary
 * working directory and HOME with files to upload, and the payload scanner.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EgressDeps, SecretScanner } from '../../src/egress/check.ts';
import { scanForEgress } from '../../src/egress/secrets.ts';

/** Public-looking answers for the names the tables use; every other name does not resolve. */
export const FAKE_DNS: Record<string, string[]> = {
  'registry.npmjs.org': ['104.16.1.34'],
  'github.com': ['140.82.112.3'],
  'api.github.com': ['140.82.112.6'],
  'example.com': ['93.184.215.14'],
  'www.example.com': ['93.184.215.14'],
  'hooks.slack.com': ['54.192.1.1'],
  'evil.com': ['45.33.32.156'],
  'attacker.net': ['45.33.32.157'],
  'pypi.org': ['151.101.0.223'],
  'files.pythonhosted.org': ['151.101.1.63'],
  'nodejs.org': ['104.20.22.46'],
  'rebind.attacker.net': ['10.9.9.9'],
  'sneaky.attacker.net': ['93.184.215.14', '127.0.0.1'],
  'v6only.attacker.net': ['::ffff:169.254.169.254'],
};

export const fakeLookup = async (host: string): Promise<string[]> => {
  const answer = FAKE_DNS[host];
  if (answer) return answer;
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

/** A fake AWS key and a private key block, assembled so no scanner flags this source file. */
export const FAKE_AWS_KEY = ['AKIA', 'Q3EGRTZ7', 'XWVB4N2K'].join('');
export const FAKE_AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENGbPxRfi', 'CYzQ3kLmN8pTvW1'].join('/');
/** A real private key, made at run time (nothing secret lives in the source). */
export const FAKE_PRIVATE_KEY = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export interface Sandbox {
  cwd: string;
  home: string;
  deps: EgressDeps;
}

export function makeSandbox(scan: SecretScanner = scanForEgress): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'sendgate-egress-'));
  const cwd = join(root, 'project');
  const home = join(root, 'home');
  mkdirSync(join(cwd, 'src'), { recursive: true });
  mkdirSync(join(home, '.ssh'), { recursive: true });
  writeFileSync(join(cwd, 'notes.txt'), 'meeting notes: ship on friday\n');
  writeFileSync(join(cwd, 'report.json'), '{"passed": 120, "failed": 0}\n');
  writeFileSync(join(cwd, 'deploy.log'), `deploying with key ${FAKE_AWS_KEY}\n`);
  writeFileSync(join(cwd, 'settings.ini'), `[aws]\naws_access_key_id = ${FAKE_AWS_KEY}\naws_secret_access_key = ${FAKE_AWS_SECRET}\n`);
  writeFileSync(join(cwd, 'curl-internal.cfg'), 'url = "http://10.0.0.8/admin"\nsilent\n');
  writeFileSync(join(cwd, 'curl-public.cfg'), 'url = "https://example.com/"\nheader = "Accept: application/json"\n');
  writeFileSync(join(cwd, 'curl-upload.cfg'), 'url = "https://example.com/upload"\ndata = "@settings.ini"\n');
  writeFileSync(join(cwd, 'urls.txt'), 'https://example.com/a\nhttp://192.168.10.10/b\n');
  writeFileSync(join(cwd, 'public-urls.txt'), 'https://example.com/a\nhttps://www.example.com/b\n');
  writeFileSync(join(cwd, 'key.txt'), FAKE_PRIVATE_KEY);
  writeFileSync(join(home, '.ssh', 'id_rsa.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDq7 user@host\n');
  mkdirSync(join(cwd, '.git'), { recursive: true });
  writeFileSync(join(cwd, '.git', 'config'), '[core]\n\tbare = false\n[remote "origin"]\n\turl = https://github.com/acme/app.git\n[remote "internal"]\n\turl = git@10.3.3.3:acme/app.git\n');
  return { cwd, home, deps: { lookup: fakeLookup, cwd, home, scanSecrets: scan, lookupTimeoutMs: 500 } };
}
