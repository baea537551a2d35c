/**
 * A handful of real CLI runs (scripts/send.ts as a child process), and the argument parser in
 * process. Every run gets its own SENDGATE_HOME and HOME, uses IP literals or --resolve (never
 * real DNS), and --dry-run (never a connection).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSendArgs } from '../../src/cli/send-args.ts';
import { CONSTRAINT_CODES, outputSchema } from '../../src/contract.ts';
import { UsageError } from '../../src/errors.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const POLICIES = join(ROOT, 'test', 'fixtures', 'policies');
const homes: string[] = [];

afterAll(() => {
  for (const dir of homes) rmSync(dir, { recursive: true, force: true });
});

function send(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'sendgate-cli-'));
  homes.push(home);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'send.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    // A clean environment: no user policy, no project, no Claude Code session.
    env: { PATH: process.env.PATH, SENDGATE_HOME: join(home, 'state'), HOME: home, XDG_STATE_HOME: join(home, 'xdg') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dryRun = (...args: string[]) => send([...args, '--dry-run', '--format', 'json']);

function output(stdout: string) {
  const parsed = outputSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new Error(`output does not match the contract: ${parsed.error.message}`);
  for (const constraint of parsed.data.constraints_applied) expect(CONSTRAINT_CODES).toContain(constraint.code);
  return parsed.data;
}

describe('send --dry-run (CLI)', () => {
  it('--help exits 0 and prints the usage', () => {
    const run = send(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: send\.mjs --destination D --protocol http\|smtp\|xmpp/);
    expect(run.stdout).toMatch(/64 bad usage; 78 bad configuration/);
  });

  it('a public destination passes: exit 0, status dry_run, every constraint with a code', () => {
    const run = dryRun('--destination', 'https://hooks.example.com/services/x', '--protocol', 'http', '--message', '{"text":"build 42 is green"}', '--resolve', 'hooks.example.com=93.184.215.14');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = output(run.stdout);
    expect(result.sent).toBe(false);
    expect(result.delivery.status).toBe('dry_run');
    expect(result.delivery.destination).toBe('https://hooks.example.com/services/x');
    expect(result.constraints_applied.map((c) => c.code)).toEqual(expect.arrayContaining(['NETWORK_PUBLIC', 'PAYLOAD_SIZE_OK', 'APPROVAL_REQUIRED']));
    expect(result.approval.required).toBe(true);
  });

  it('the YAML output (the default format) carries the same contract', () => {
    const run = send(['--destination', 'http://93.184.215.14/hook', '--protocol', 'http', '--message', 'hi', '--dry-run']);
    expect(run.status).toBe(0);
    expect(outputSchema.safeParse(parse(run.stdout)).success).toBe(true);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'NETWORK_INTERNAL'],
    ['http://0x7f.1:8080/', 'NETWORK_INTERNAL'],
    ['http://localhost/', 'NETWORK_INTERNAL'],
    ['file:///etc/passwd', 'SCHEME_NOT_ALLOWED'],
    ['http://user:pw@93.184.215.14/', 'DESTINATION_INVALID'],
  ])('%s is blocked: exit 2 with %s', (destination, code) => {
    const run = dryRun('--destination', destination, '--protocol', 'http', '--message', 'hi');
    expect(run.status).toBe(2);
    const result = output(run.stdout);
    expect(result.delivery.status).toBe('blocked');
    expect(result.sent).toBe(false);
    const blocking = result.constraints_applied.find((c) => c.result === 'block');
    expect(blocking?.code).toBe(code);
    expect(result.delivery.error).toMatch(new RegExp(`^${code}: `));
  });

  it('a --resolve override that points a name inside is blocked too', () => {
    const run = dryRun('--destination', 'https://api.example.com/x', '--protocol', 'http', '--message', 'hi', '--resolve', 'api.example.com=10.0.0.7');
    expect(run.status).toBe(2);
    expect(output(run.stdout).constraints_applied.at(-1)?.code).toBe('NETWORK_INTERNAL');
  });

  it.each([
    [['--protocol', 'http', '--message', 'hi'], /--destination is required/],
    [['--destination', 'https://example.com/', '--message', 'hi'], /--protocol is required/],
    [['--destination', 'https://example.com/', '--protocol', 'gopher', '--message', 'hi'], /--protocol gopher: expected one of http, smtp, xmpp/],
    [['--destination', 'https://example.com/', '--protocol', 'http', '--message', 'hi', '--bogus'], /Unknown option '--bogus'/],
    [['--destination', 'https://example.com/', '--protocol', 'http', '--message', 'hi', '--resolve', 'example.com'], /--resolve example\.com: expected HOST=ADDR/],
    [['--destination', 'https://example.com/', '--protocol', 'http', '--message', '{"broken":'], /looks like JSON but does not parse/],
  ])('bad usage %j: exit 64 with a one-line error', (args, message) => {
    const run = send([...args, '--dry-run']);
    expect(run.status).toBe(64);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^send: [A-Z_]+: /);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/\(see `send --help`\)$/);
  });

  it.each([
    ['unknown-key.yaml', /unknown-key\.yaml: unknown key "network\.allow_privat"/],
    ['bad-cidr.yaml', /bad-cidr\.yaml: network\.allow_private\.1: expected a CIDR/],
    ['yaml-syntax.yaml', /yaml-syntax\.yaml:4:3: not valid YAML/],
    ['does-not-exist.yaml', /does-not-exist\.yaml: cannot read the policy \(ENOENT\)/],
  ])('bad policy %s: exit 78 with a one-line error naming the file and key', (file, message) => {
    const run = dryRun('--destination', 'http://93.184.215.14/', '--protocol', 'http', '--message', 'hi', '--policy', join(POLICIES, file));
    expect(run.status).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^send: CONFIG_[A-Z]+: /);
    expect(run.stderr).toMatch(message);
  });
});

describe('parseSendArgs', () => {
  const base = ['--destination', 'https://example.com/', '--protocol', 'http', '--message', 'hi'];

  it('reads a full command line', () => {
    const input = parseSendArgs([...base, '--protocol', 'HTTP', '--resolve', 'Example.COM:443=93.184.215.14,[2606:2800:21f:cb07:6820:80da:af6b:8b2c]', '--resolve', 'b.example.org=151.101.1.69', '--timeout', '5000', '--format', 'json', '--dry-run']);
    expect(input).toMatchObject({ protocol: 'http', timeoutMs: 5000, format: 'json', dryRun: true });
    expect(input !== 'help' && Object.fromEntries(input.resolve)).toEqual({
      'example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
      'b.example.org': ['151.101.1.69'],
    });
  });

  it.each([
    [['--format', 'xml'], /--format xml: expected yaml or json/],
    [['--timeout', '10s'], /--timeout 10s: expected a whole number/],
    [['--timeout', '5'], /--timeout 5: expected 100\.\.600000/],
    [['--resolve', '=1.2.3.4'], /expected HOST=ADDR/],
    [['--resolve', '10.0.0.1=1.2.3.4'], /with a host name/],
    [['--resolve', 'a.example.com=localhost'], /"localhost" is not an IP address/],
    [['--resolve', 'a.example.com='], /"" is not an IP address/],
    [['--resolve', 'a.example.com=1.2.3.4,,5.6.7.8'], /is not an IP address/],
    [['--resolve', 'a.example.com=0x7f.1'], /is not an IP address/],
    [['--constraints', '[]'], /must be a JSON object/],
    [['--constraints', '{"rate_limit":"fast"}'], /expected N\/minute/],
    [['--constraints', '{"rate":"1/hour"}'], /unknown key "rate"/],
    [['--retry-policy', '{"max_attempts":99}'], /max_attempts: expected an integer 1\.\.10/],
    [['--approval-token', 'x'], /--approval-token is malformed/],
    [['--checkpoint-ref', '../../etc'], /--checkpoint-ref is malformed/],
    [['--message-file', '/nonexistent/sendgate/message'], /--message-file \/nonexistent\/sendgate\/message: cannot read \(ENOENT\)/],
    [['--dry-run=yes'], /dry-run/],
  ])('%j is a usage error', (extra, message) => {
    const argv = extra[0] === '--message-file' ? [...base.slice(0, 4), ...extra] : [...base, ...extra];
    let error: unknown;
    try {
      parseSendArgs(argv);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(64);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).message).not.toMatch(/\n/);
  });

  it('refuses --message together with --message-file', () => {
    expect(() => parseSendArgs([...base, '--message-file', '-'])).toThrow(/not both/);
  });
});
