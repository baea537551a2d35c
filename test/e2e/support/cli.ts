/**
 * What the end-to-end tests share for driving programs from the outside: the sendgate CLIs as child
 * processes (their environment, their policy file, their exit code), the human approving on a real
 * terminal (script(1) gives approve a pty), a free port on 127.0.0.1, and a throwaway PKI made with
 * the openssl CLI for the test servers (HTTPS, SMTP, Prosody).
 *
 *   const result = await runCli(process.execPath, [SEND, ...args], { cwd: work, env: cliEnv(work) });
 *   const { token } = await approveOnTerminal([process.execPath, APPROVE, 'approve', id], { cwd: work, env: cliEnv(work) });
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// The CLIs as child processes

/**
 * A child's whole environment, nothing inherited but PATH: HOME is `work`, the state directory
 * (approvals, rate windows, outbox, audit) is `work`/state, then `vars` (an undefined value removes
 * the variable, e.g. to take a default password away).
 */
export function cliEnv(work: string, vars: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, SENDGATE_HOME: join(work, 'state'), ...vars };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** Writes `policy` to `dir`/`name` as JSON (JSON is YAML) and returns the file's path. */
export function writePolicyFile(dir: string, policy: unknown, name = 'policy.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(policy, null, 2));
  return file;
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The exit code in execFile's callback: 0, the child's code, or -1 (killed: a signal, the timeout, maxBuffer; or not started). */
export function exitCodeOf(error: ExecFileException | null): number {
  if (!error) return 0;
  return typeof error.code === 'number' ? error.code : -1;
}

export interface CliOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Kill the child after this long (SIGTERM); none by default. */
  timeoutMs?: number;
  /** Most bytes of stdout or stderr (Node's default, 1 MiB, when unset). */
  maxBuffer?: number;
}

/**
 * Runs a program to its end, asynchronously (the test servers live in this process and must keep
 * answering while it runs). Never rejects: a failing child is a non-zero exitCode.
 */
export function runCli(file: string, args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((done) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: options.maxBuffer }, (error, stdout, stderr) => {
      done({ exitCode: exitCodeOf(error), stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The human's side: approve on a real terminal

export interface TerminalApproval {
  exitCode: number;
  /** What the terminal showed, carriage returns removed. */
  output: string;
  /** The approval token (sg1.…) printed on a line of its own, or null when none was. */
  token: string | null;
}

/**
 * The human's side for real: runs `argv` (approve.mjs or approve.ts and its arguments) on a terminal
 * (script(1) gives it a pty) and, once the prompt is on the screen (`Type "yes"`), types `answer`
 * and Enter as a person would. Never rejects.
 */
export function approveOnTerminal(
  argv: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; answer?: string; timeoutMs?: number },
): Promise<TerminalApproval> {
  const command = argv.map(shellQuote).join(' ');
  const answer = options.answer ?? 'yes';
  return new Promise((done) => {
    const child = execFile('script', ['-qec', command, '/dev/null'], { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 30_000 }, (error, stdout) => {
      const output = stdout.replace(/\r/g, '');
      done({ exitCode: exitCodeOf(error), output, token: /^(sg1\.\S+)\s*$/m.exec(output)?.[1] ?? null });
    });
    let seen = '';
    let answered = false;
    child.stdout?.on('data', (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (!answered && seen.includes('Type "yes"')) {
        answered = true;
        child.stdin?.write(`${answer}\n`);
      }
    });
  });
}

/** One word for `sh -c`, whatever it holds. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Ports

/** A port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A throwaway PKI (openssl)

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestCa {
  /** The CA certificate (PEM): what a client is told to trust. */
  caFile: string;
  caPem: string;
  keyFile: string;
}

/** A throwaway CA in `dir` (ca.key, ca.pem) made with openssl: EC P-256, valid two days. */
export async function createTestCa(dir: string, commonName: string): Promise<TestCa> {
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca.key');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { caFile, caPem: await readFile(caFile, 'utf8'), keyFile };
}

/**
 * A server certificate signed by `ca`, valid two days for the DNS names `names.dns` (the first is
 * also the subject's CN) and the addresses `names.ips`. Writes `base`.key, `base`.csr, `base`.ext
 * and the certificate (`certFile`, `base`.pem by default); returns the key's and the certificate's paths.
 */
export async function issueServerCertificate(
  ca: TestCa,
  base: string,
  names: { dns: readonly string[]; ips?: readonly string[] },
  certFile = `${base}.pem`,
): Promise<{ keyFile: string; certFile: string }> {
  const keyFile = `${base}.key`;
  const altNames = [...names.dns.map((name) => `DNS:${name}`), ...(names.ips ?? []).map((ip) => `IP:${ip}`)];
  await run('openssl', ['req', ...EC_KEY, '-keyout', keyFile, '-out', `${base}.csr`, '-subj', `/CN=${names.dns[0]}`]);
  await writeFile(`${base}.ext`, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${altNames.join(',')}`,
    '',
  ].join('\n'));
  await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', ca.caFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-out', certFile, '-days', '2', '-extfile', `${base}.ext`]);
  return { keyFile, certFile };
}
