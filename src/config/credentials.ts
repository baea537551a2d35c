/**
 * Secrets a policy points at, never holds: a password comes from the environment variable a policy
 * key names (`smtp.password_env`, `xmpp.password_env`) or from a file only its owner can read,
 * named by another key (`smtp.password_file`, `xmpp.password_file`); never from the policy text or
 * the command line. Shared by the SMTP and XMPP transports, and free of their libraries (the
 * xmpp_send bundle must not carry nodemailer). No error here ever carries the secret itself.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { ConfigError } from '../errors.ts';

export interface SecretSetting {
  /** The environment variable the policy names (the value of `*.password_env`); null = none. */
  envName?: string | null;
  /** The file the policy names (the value of `*.password_file`); null = none. It wins over envName. */
  file?: string | null;
  /** The policy key of `file`, named in every error about the file (e.g. 'smtp.password_file'). */
  keyPath: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The secret a policy setting points at: the content of `file` when one is configured (it takes
 * precedence over the environment), else the value of the environment variable `envName`. Null when
 * neither is configured, or the variable is unset or empty: the caller says what is missing, in its
 * own words. A file that is missing, not a regular file, readable by group or others, or empty is a
 * ConfigError naming `keyPath` (see readSecretFile).
 */
export function readSecretSetting({ envName, file, keyPath, env }: SecretSetting): string | null {
  if (file) return readSecretFile(file, keyPath);
  if (envName) return env[envName] || null;
  return null;
}

/**
 * Read a secret from a file only its owner can read (0600 or 0400): anything looser is a ConfigError
 * (CONFIG_INSECURE, with the chmod 600 that fixes it). One trailing newline is dropped; an empty
 * secret is CONFIG_MISSING, an unreadable file CONFIG_UNREADABLE. `~/` means $HOME.
 */
export function readSecretFile(path: string, keyPath: string): string {
  const file = expandHome(path);
  let mode: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new ConfigError(`${keyPath}: ${file} is not a regular file`, { keyPath, file });
    mode = stat.mode;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw unreadable(keyPath, file, error);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigError(
      `${keyPath}: ${file} is readable by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); make it private with: chmod 600 ${file}`,
      { keyPath, file, code: 'CONFIG_INSECURE' },
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(keyPath, file, error);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw new ConfigError(`${keyPath}: ${file} is empty`, { keyPath, file, code: 'CONFIG_MISSING' });
  return secret;
}

/** A path from the policy with a leading `~` or `~/` standing for $HOME. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${process.env.HOME || homedir()}${path.slice(1)}` : path;
}

function unreadable(keyPath: string, file: string, error: unknown): ConfigError {
  return new ConfigError(`${keyPath}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { keyPath, file, code: 'CONFIG_UNREADABLE' });
}
