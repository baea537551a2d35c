import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSecretFile, readSecretSetting } from '../../src/config/credentials.ts';
import { policySchema } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { smtpCredentials } from '../../src/transports/smtp.ts';
import { xmppAccount } from '../../src/transports/xmpp-credentials.ts';

const SECRET = 'correct horse battery staple 7f3a';
const KEY = 'smtp.password_file';
const posix = process.platform !== 'win32';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sendgate-credentials-'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** A file holding `text`, with exactly `mode` (chmod, so the umask does not interfere). */
function secretFile(text: string, mode = 0o600, name = 'password'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no ConfigError');
}

describe('readSecretSetting: the environment', () => {
  it('reads the variable the policy names', () => {
    expect(readSecretSetting({ envName: 'PW', keyPath: KEY, env: { PW: SECRET } })).toBe(SECRET);
  });

  it('is null when the variable is unset or empty (the caller words what is missing)', () => {
    expect(readSecretSetting({ envName: 'PW', keyPath: KEY, env: {} })).toBeNull();
    expect(readSecretSetting({ envName: 'PW', keyPath: KEY, env: { PW: '' } })).toBeNull();
  });

  it('is null when neither a variable nor a file is configured', () => {
    expect(readSecretSetting({ envName: null, file: null, keyPath: KEY, env: { PW: SECRET } })).toBeNull();
    expect(readSecretSetting({ keyPath: KEY, env: {} })).toBeNull();
  });
});

describe('readSecretSetting: the file', () => {
  it('reads a 0600 file, dropping one trailing newline', () => {
    expect(readSecretSetting({ file: secretFile(`${SECRET}\n`), keyPath: KEY, env: {} })).toBe(SECRET);
    expect(readSecretSetting({ file: secretFile(`${SECRET}\r\n`), keyPath: KEY, env: {} })).toBe(SECRET);
    expect(readSecretSetting({ file: secretFile(`${SECRET}\n\n`), keyPath: KEY, env: {} })).toBe(`${SECRET}\n`);
  });

  it('reads a 0400 file', () => {
    expect(readSecretSetting({ file: secretFile(SECRET, 0o400), keyPath: KEY, env: {} })).toBe(SECRET);
  });

  it('takes precedence over the environment variable, which is then not read', () => {
    const file = secretFile(SECRET);
    expect(readSecretSetting({ envName: 'PW', file, keyPath: KEY, env: { PW: 'from the environment' } })).toBe(SECRET);
  });

  it.runIf(posix).each([0o644, 0o640, 0o604, 0o660])('refuses a file with mode %o (CONFIG_INSECURE, the key, chmod 600), even with the variable set', (mode) => {
    const file = secretFile(SECRET, mode);
    const error = configError(() => readSecretSetting({ envName: 'PW', file, keyPath: KEY, env: { PW: 'from the environment' } }));
    expect(error.code).toBe('CONFIG_INSECURE');
    expect(error.exitCode).toBe(78);
    expect(error.keyPath).toBe(KEY);
    expect(error.file).toBe(file);
    expect(error.message).toBe(`${KEY}: ${file} is readable by others (mode 0${mode.toString(8)}); make it private with: chmod 600 ${file}`);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a missing file (CONFIG_UNREADABLE, the key and the errno)', () => {
    const file = join(dir, 'nope');
    const error = configError(() => readSecretSetting({ envName: 'PW', file, keyPath: 'xmpp.password_file', env: { PW: SECRET } }));
    expect(error.code).toBe('CONFIG_UNREADABLE');
    expect(error.keyPath).toBe('xmpp.password_file');
    expect(error.message).toBe(`xmpp.password_file: cannot read ${file} (ENOENT)`);
  });

  it('refuses a directory (not a regular file)', () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { mode: 0o700 });
    const error = configError(() => readSecretSetting({ file: sub, keyPath: KEY, env: {} }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.keyPath).toBe(KEY);
    expect(error.message).toBe(`${KEY}: ${sub} is not a regular file`);
  });

  it.each([['empty', ''], ['a lone newline', '\n']])('refuses a file that is %s (CONFIG_MISSING)', (_what, text) => {
    const file = secretFile(text);
    const error = configError(() => readSecretSetting({ envName: 'PW', file, keyPath: KEY, env: { PW: SECRET } }));
    expect(error.code).toBe('CONFIG_MISSING');
    expect(error.keyPath).toBe(KEY);
    expect(error.message).toBe(`${KEY}: ${file} is empty`);
  });

  it('expands ~/ to $HOME', () => {
    secretFile(SECRET, 0o600, 'pw');
    vi.stubEnv('HOME', dir);
    expect(readSecretFile('~/pw', KEY)).toBe(SECRET);
    const error = configError(() => readSecretFile('~/nope', KEY));
    expect(error.file).toBe(join(dir, 'nope'));
  });
});

describe('the transports read their passwords through it', () => {
  const policy = (section: 'smtp' | 'xmpp', settings: Record<string, unknown>) =>
    policySchema.parse({ version: 1, [section]: { ...(section === 'xmpp' ? { jid: 'agent@example.com' } : {}), ...settings } });

  it('smtp: the file wins over SENDGATE_SMTP_PASSWORD; a loose file names smtp.password_file', () => {
    const file = secretFile(SECRET);
    const env = { SENDGATE_SMTP_USER: 'agent', SENDGATE_SMTP_PASSWORD: 'from the environment' };
    expect(smtpCredentials(policy('smtp', { password_file: file }), env)).toEqual({ user: 'agent', pass: SECRET });
    expect(smtpCredentials(policy('smtp', {}), env)).toEqual({ user: 'agent', pass: 'from the environment' });
    expect(smtpCredentials(policy('smtp', {}), {})).toBeNull();
    if (posix) {
      chmodSync(file, 0o644);
      const error = configError(() => smtpCredentials(policy('smtp', { password_file: file }), env));
      expect(error.code).toBe('CONFIG_INSECURE');
      expect(error.keyPath).toBe('smtp.password_file');
    }
  });

  it('smtp: a user name with no password keeps its own message', () => {
    const error = configError(() => smtpCredentials(policy('smtp', {}), { SENDGATE_SMTP_USER: 'agent' }));
    expect(error.code).toBe('CONFIG_MISSING');
    expect(error.keyPath).toBe('smtp.password_env');
    expect(error.message).toMatch(/^an SMTP user name is set \(SENDGATE_SMTP_USER\) but no password/);
  });

  it('xmpp: the file wins over SENDGATE_XMPP_PASSWORD; a loose file names xmpp.password_file', () => {
    const file = secretFile(SECRET);
    const env = { SENDGATE_XMPP_PASSWORD: 'from the environment' };
    expect(xmppAccount(policy('xmpp', { password_file: file }), env).password).toBe(SECRET);
    expect(xmppAccount(policy('xmpp', {}), env).password).toBe('from the environment');
    if (posix) {
      chmodSync(file, 0o644);
      const error = configError(() => xmppAccount(policy('xmpp', { password_file: file }), env));
      expect(error.code).toBe('CONFIG_INSECURE');
      expect(error.message).toMatch(/^xmpp\.password_file: .* chmod 600/);
    }
  });

  it('xmpp: an unset variable and no source at all keep their own messages', () => {
    const unset = configError(() => xmppAccount(policy('xmpp', {}), {}));
    expect(unset.code).toBe('CONFIG_MISSING');
    expect(unset.keyPath).toBe('xmpp.password_env');
    expect(unset.message).toMatch(/^the XMPP password for agent@example\.com is not set: export SENDGATE_XMPP_PASSWORD/);
    const none = configError(() => xmppAccount(policy('xmpp', { password_env: null }), { SENDGATE_XMPP_PASSWORD: SECRET }));
    expect(none.code).toBe('CONFIG_MISSING');
    expect(none.message).toMatch(/^no XMPP password source/);
  });
});
