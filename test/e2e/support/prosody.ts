/**
 * A private Prosody (Debian's prosody 0.12) for the XMPP end-to-end tests and the benchmark.
 *
 *   const server = await startProsody({ users: { agent: 'pw', bob: 'pw' } });
 *   ... server.domain, server.c2sPort (STARTTLS), server.directTlsPort, server.caFile ...
 *   await server.stop();
 *
 * Everything lives in a temporary directory: the configuration, a throwaway CA and a certificate for
 * the test domains (made with openssl at run time), the data store, the log and the pidfile. The
 * server listens on 127.0.0.1 only, on ports chosen at run time, with s2s off, a MUC component
 * (`conference.<domain>`), stream management (mod_smacks, bundled with 0.12) and hashed passwords
 * at Prosody's default SCRAM iteration count. A second virtual host stores SCRAM-SHA-256 keys.
 * Prosody runs as root only because `run_as_root = true` says so (CI runs as root); it is started
 * with `prosody -F` and stopped by the pid in its pidfile (the process shows up as `lua5.4`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestCa, freePort, issueServerCertificate } from './cli.ts';

/** freePort lives in cli.ts; re-exported for the tests that take it from here with startProsody. */
export { freePort };

const run = promisify(execFile);

export interface ProsodyOptions {
  /** The main virtual host (password_hash SHA-1, Prosody's default). */
  domain?: string;
  /** A second virtual host whose accounts store SCRAM-SHA-256 keys (offers SCRAM-SHA-256 only). */
  sha256Domain?: string;
  /** A virtual host deliberately missing from the certificate (certificate name mismatch tests). */
  uncoveredDomain?: string;
  /** user -> password on `domain`. */
  users?: Record<string, string>;
  /** Accounts on `sha256Domain`. */
  sha256Users?: Record<string, string>;
  /** Prosody log level written to <dir>/prosody.log. */
  logLevel?: 'debug' | 'info' | 'warn';
  /** Extra global configuration lines. */
  extraConfig?: string;
}

export interface ProsodyServer {
  dir: string;
  domain: string;
  sha256Domain: string;
  uncoveredDomain: string;
  mucDomain: string;
  host: '127.0.0.1';
  /** STARTTLS client port. */
  c2sPort: number;
  /** Direct TLS (XEP-0368) client port. */
  directTlsPort: number;
  /** PEM file of the throwaway CA that signed the server's certificate. */
  caFile: string;
  caPem: string;
  pid: number;
  logFile: string;
  register(user: string, password: string, domain?: string): Promise<void>;
  /** xmpp://127.0.0.1:port (STARTTLS) */
  service: string;
  /** xmpps://127.0.0.1:port (direct TLS) */
  directTlsService: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prosody exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`prosody did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Pki {
  caFile: string;
  caPem: string;
  keyFile: string;
  certFile: string;
}

/** A throwaway CA and one certificate for `names` (DNS SANs), made with openssl. */
export async function createPki(dir: string, names: readonly string[]): Promise<Pki> {
  const ca = await createTestCa(dir, 'sendgate xmpp test CA');
  const { keyFile, certFile } = await issueServerCertificate(ca, join(dir, 'server'), { dns: names }, join(dir, 'server.crt'));
  return { caFile: ca.caFile, caPem: ca.caPem, keyFile, certFile };
}

const lua = (value: string) => JSON.stringify(value); // a JSON string is a valid Lua string literal for these paths/names

export async function startProsody(options: ProsodyOptions = {}): Promise<ProsodyServer> {
  const domain = options.domain ?? 'sendgate.test';
  const sha256Domain = options.sha256Domain ?? `sha256.${domain}`;
  const uncoveredDomain = options.uncoveredDomain ?? `uncovered.${domain}`;
  const mucDomain = `conference.${domain}`;
  const dir = await mkdtemp(join(tmpdir(), 'sendgate-prosody-'));
  await mkdir(join(dir, 'data'), { mode: 0o700 });
  const pki = await createPki(dir, [domain, mucDomain, sha256Domain]);
  const [c2sPort, directTlsPort] = [await freePort(), await freePort()];
  const ssl = `{ key = ${lua(pki.keyFile)}; certificate = ${lua(pki.certFile)}; }`;
  const config = `-- generated by test/e2e/support/prosody.ts
run_as_root = true
pidfile = ${lua(join(dir, 'prosody.pid'))}
data_path = ${lua(join(dir, 'data'))}
plugin_paths = {}
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2sPort} }
c2s_direct_tls_ports = { ${directTlsPort} }
c2s_direct_tls_interfaces = { "127.0.0.1" }
s2s_ports = { }
s2s_interfaces = { }
http_ports = { }
https_ports = { }
c2s_require_encryption = true
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
certificates = ${lua(join(dir, 'no-certs'))}
ssl = ${ssl}
log = { { levels = { min = ${lua(options.logLevel ?? 'info')} }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "smacks", "carbons", "offline" }
modules_disabled = { "s2s", "s2s_auth_certs", "dialback" }
smacks_hibernation_time = 5
${options.extraConfig ?? ''}

VirtualHost ${lua(domain)}
  ssl = ${ssl}

VirtualHost ${lua(sha256Domain)}
  ssl = ${ssl}
  password_hash = "SHA-256"

VirtualHost ${lua(uncoveredDomain)}
  ssl = ${ssl}

Component ${lua(mucDomain)} "muc"
  ssl = ${ssl}
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_persistent = false
  muc_room_default_public = true
`;
  const configFile = join(dir, 'prosody.cfg.lua');
  await writeFile(configFile, config, { mode: 0o600 });

  const register = async (user: string, password: string, on = domain) => {
    await run('prosodyctl', ['--config', configFile, 'register', user, on, password]);
  };
  await Promise.all([
    ...Object.entries(options.users ?? {}).map(([user, password]) => register(user, password)),
    ...Object.entries(options.sha256Users ?? {}).map(([user, password]) => register(user, password, sha256Domain)),
  ]);

  const child = spawn('prosody', ['--config', configFile, '-F'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const logFile = join(dir, 'prosody.log');
  try {
    await waitForPort(c2sPort, child, 15_000);
    await waitForPort(directTlsPort, child, 5_000);
  } catch (error) {
    if (child.pid && child.exitCode === null) child.kill('SIGKILL');
    const log = await readFile(logFile, 'utf8').catch(() => '');
    throw new Error(`${(error as Error).message}\n--- prosody output ---\n${output}\n--- prosody.log ---\n${log.slice(-4000)}`);
  }
  const pidText = await readFile(join(dir, 'prosody.pid'), 'utf8').catch(() => '');
  const pid = Number(pidText.trim()) || child.pid!;

  let stopped = false;
  return {
    dir, domain, sha256Domain, uncoveredDomain, mucDomain, host: '127.0.0.1', c2sPort, directTlsPort,
    caFile: pki.caFile, caPem: pki.caPem, pid, logFile, register,
    service: `xmpp://127.0.0.1:${c2sPort}`,
    directTlsService: `xmpps://127.0.0.1:${directTlsPort}`,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
