import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicy, loadPolicy, parsePolicyText, policyCandidates } from '../../src/config/load.ts';
import { ConfigError, EXIT } from '../../src/errors.ts';

const FIXTURES = new URL('../fixtures/policies/', import.meta.url).pathname;

function loadError(file: string): ConfigError {
  try {
    loadPolicy({ flag: join(FIXTURES, file), env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`${file} loaded without an error`);
}

/** [fixture, the key path the message names (null: the file as a whole), what the message says is expected] */
const BROKEN: readonly (readonly [file: string, keyPath: string | null, expected: RegExp])[] = [
  ['unknown-key.yaml', 'network.allow_privat', /unknown key "network\.allow_privat"/],
  ['unknown-top-level-key.yaml', 'destination', /unknown key "destination"/],
  ['wrong-type.yaml', 'approval.required', /expected boolean, received string/],
  ['wrong-type-list.yaml', 'destinations.allow', /expected array, received string/],
  ['bad-enum.yaml', 'payload.secrets', /"block"\|"warn"\|"off"/],
  ['bad-number.yaml', 'rate_limit.max_messages_per_minute', />0/],
  ['bad-port.yaml', 'network.allowed_ports.1', /<=65535/],
  ['version-2.yaml', 'version', /expected `version: 1`/],
  ['version-string.yaml', 'version', /expected `version: 1`/],
  ['missing-version.yaml', 'version', /expected `version: 1`/],
  ['bad-cidr.yaml', 'network.allow_private.1', /expected a CIDR/],
  ['bad-cidr-not-cidr.yaml', 'network.allow_private.0', /expected a CIDR/],
  ['bad-regex.yaml', 'payload.deny_patterns.1', /not a valid regular expression/],
  ['bad-destination-pattern.yaml', 'destinations.allow.1', /"http:\/\/": not a valid URL prefix/],
  ['bad-deny-pattern.yaml', 'destinations.deny.0', /"\*\.\*\.example\.com": not a host, \*\.domain, URL prefix/],
  ['bad-contact-pattern.yaml', 'xmpp.allowed_contacts.0', /"not a jid"/],
  ['bad-smtp-server.yaml', 'smtp.server', /expected smtp:\/\/host:port/],
  ['null-section.yaml', 'network', /expected object, received null/],
  ['duplicate-keys.yaml', null, /:4:1: not valid YAML: Map keys must be unique/],
  ['yaml-syntax.yaml', null, /:4:3: not valid YAML: /],
  ['tabs.yaml', null, /:3:1: not valid YAML: Tabs/],
  ['not-a-mapping.yaml', null, /must be a mapping of keys .* not a list/],
  ['scalar.yaml', null, /must be a mapping of keys .* not a string/],
  ['empty.yaml', null, /the policy is empty; it needs at least `version: 1`/],
  ['comments-only.yaml', null, /the policy is empty/],
];

describe('broken policies (test/fixtures/policies)', () => {
  it.each(BROKEN)('%s -> %s', (file, keyPath, expected) => {
    const error = loadError(file);
    const path = join(FIXTURES, file);
    expect(error.exitCode).toBe(EXIT.config);
    expect(error.file).toBe(path);
    // one line: the file, the key path, and what was expected
    expect(error.message).not.toMatch(/\n/);
    expect(error.message.startsWith(`${path}`)).toBe(true);
    if (keyPath) {
      expect(error.keyPath).toBe(keyPath);
      expect(error.message).toContain(keyPath);
    }
    expect(error.message).toMatch(expected);
  });

  it('a valid, full policy loads', () => {
    const { policy, source } = loadPolicy({ flag: join(FIXTURES, 'valid-full.yaml'), env: {} });
    expect(source).toBe(join(FIXTURES, 'valid-full.yaml'));
    expect(policy.destinations.allow).toHaveLength(6);
    expect(policy.payload.pii).toEqual({ card: 'block', ssn: 'block', iban: 'warn', email: 'off', phone: 'off' });
  });

  it('says how many more problems there are', () => {
    expect(() => parsePolicyText('version: 1\nmode: loud\nbash_egress: sometimes\n', 'p.yaml')).toThrow(/p\.yaml: mode: .*\(and 1 more problem\)/);
  });

  it('never falls back to defaults when a policy does not parse', () => {
    expect(() => parsePolicyText('version: 1\napproval: {required: fals}\n')).toThrow(ConfigError);
  });
});

describe('policy search order', () => {
  let dir: string;
  const write = (path: string, text: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  const policyWith = (mode: 'send' | 'draft', ttl: number) => `version: 1\nmode: ${mode}\napproval:\n  ttl_seconds: ${ttl}\n`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sendgate-policy-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('flag > SENDGATE_POLICY > $CLAUDE_PROJECT_DIR/.claude/sendgate.yaml > ~/.config/sendgate/policy.yaml > defaults', () => {
    const flag = write(join(dir, 'flag.yaml'), policyWith('send', 101));
    const envFile = write(join(dir, 'env.yaml'), policyWith('send', 102));
    const project = join(dir, 'project');
    const projectFile = write(join(project, '.claude', 'sendgate.yaml'), policyWith('send', 103));
    const home = join(dir, 'home');
    const userFile = write(join(home, '.config', 'sendgate', 'policy.yaml'), policyWith('send', 104));
    const env = { SENDGATE_POLICY: envFile, CLAUDE_PROJECT_DIR: project, HOME: home };

    expect(loadPolicy({ flag, env })).toMatchObject({ source: flag, policy: { approval: { ttl_seconds: 101 } } });
    expect(loadPolicy({ env })).toMatchObject({ source: envFile, policy: { approval: { ttl_seconds: 102 } } });
    expect(loadPolicy({ env: { CLAUDE_PROJECT_DIR: project, HOME: home } })).toMatchObject({ source: projectFile, policy: { approval: { ttl_seconds: 103 } } });
    expect(loadPolicy({ env: { HOME: home } })).toMatchObject({ source: userFile, policy: { approval: { ttl_seconds: 104 } } });
    expect(loadPolicy({ env: { HOME: join(dir, 'empty-home') } })).toEqual({ source: null, policy: defaultPolicy() });
  });

  it('a project without .claude/sendgate.yaml falls through to the user file', () => {
    const home = join(dir, 'home');
    const userFile = write(join(home, '.config', 'sendgate', 'policy.yaml'), policyWith('draft', 300));
    const project = join(dir, 'bare-project');
    mkdirSync(project);
    expect(loadPolicy({ env: { CLAUDE_PROJECT_DIR: project, HOME: home } }).source).toBe(userFile);
  });

  it('lists the candidates in order', () => {
    expect(policyCandidates({ env: { CLAUDE_PROJECT_DIR: '/p', HOME: '/h' } })).toEqual([
      { path: '/p/.claude/sendgate.yaml', explicit: false },
      { path: '/h/.config/sendgate/policy.yaml', explicit: false },
    ]);
    expect(policyCandidates({ flag: '/f.yaml', env: { SENDGATE_POLICY: '/e.yaml' } })).toEqual([{ path: '/f.yaml', explicit: true }]);
    expect(policyCandidates({ env: { SENDGATE_POLICY: '/e.yaml', CLAUDE_PROJECT_DIR: '/p' } })).toEqual([{ path: '/e.yaml', explicit: true }]);
  });

  it.each([
    ['--policy', (missing: string) => ({ flag: missing, env: {} })],
    ['SENDGATE_POLICY', (missing: string) => ({ env: { SENDGATE_POLICY: missing } })],
  ] as const)('a file named by %s that does not exist is an error (78), not the defaults', (_how, inputs) => {
    const missing = join(dir, 'nope.yaml');
    let error: unknown;
    try {
      loadPolicy(inputs(missing));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    expect((error as ConfigError).code).toBe('CONFIG_UNREADABLE');
    expect((error as ConfigError).message).toMatch(new RegExp(`^${missing}: cannot read the policy \\(ENOENT\\); create it or point --policy`));
  });

  it('a broken file in a conventional location is an error, never skipped', () => {
    const project = join(dir, 'project');
    write(join(project, '.claude', 'sendgate.yaml'), 'version: 1\nnetwork: {allow_private: [everything]}\n');
    expect(() => loadPolicy({ env: { CLAUDE_PROJECT_DIR: project, HOME: join(dir, 'home') } })).toThrow(/sendgate\.yaml: network\.allow_private\.0: expected a CIDR/);
  });

  it('a directory where the policy should be is an error', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.config', 'sendgate', 'policy.yaml'), { recursive: true });
    expect(() => loadPolicy({ env: { HOME: home } })).toThrow(ConfigError);
  });
});

describe('secure defaults', () => {
  const policy = defaultPolicy();
  it('reach public destinations only, ask for approval every time, and block secrets and PII', () => {
    expect(policy.version).toBe(1);
    expect(policy.mode).toBe('send');
    expect(policy.approval).toEqual({ required: true, ttl_seconds: 600, not_required_for: [] });
    expect(policy.network).toEqual({ allow_private: [], allowed_ports: [] });
    expect(policy.destinations).toEqual({ allow: [], deny: [] });
    expect(policy.payload.secrets).toBe('block');
    expect(policy.payload.pii).toBe('block');
    expect(policy.bash_egress).toBe('guard');
    expect(policy.rate_limit).toEqual({ max_messages_per_minute: 5, max_messages_per_hour: 30, max_messages_per_destination_per_hour: 10, cooldown_after_limit: 300 });
  });

  it('keep no credentials in the policy: only the names of environment variables', () => {
    expect(policy.smtp.password_env).toBe('SENDGATE_SMTP_PASSWORD');
    expect(policy.xmpp.password_env).toBe('SENDGATE_XMPP_PASSWORD');
    expect(policy.smtp.password_file).toBeNull();
    expect(policy.xmpp.password_file).toBeNull();
  });

  it('`version: 1` alone is the defaults', () => {
    expect(parsePolicyText('version: 1\n')).toEqual(policy);
  });
});
