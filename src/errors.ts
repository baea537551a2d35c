/**
 * One base error with a stable `code` callers match on (undici style), and a small closed set of
 * subclasses. Each subclass fixes the process exit code the CLI maps it to, so an entry point never
 * has to guess what an error means.
 */

export const EXIT = {
  ok: 0,
  deliveryFailed: 1,
  blocked: 2,
  approvalRequired: 3,
  usage: 64,
  config: 78,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class SendgateError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** The caller's words are off: a flag, an argument or a message that cannot be read. */
export class UsageError extends SendgateError {
  constructor(message: string, code = 'USAGE', options?: { cause?: unknown }) {
    super(code, message, EXIT.usage, options);
  }
}

/** The policy (or another configuration input) is missing, unreadable or invalid. */
export class ConfigError extends SendgateError {
  readonly file: string | undefined;
  readonly keyPath: string | undefined;

  constructor(
    message: string,
    details: { file?: string; keyPath?: string; code?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(details.code ?? 'CONFIG_INVALID', message, EXIT.config, options);
    this.file = details.file;
    this.keyPath = details.keyPath;
  }
}

/**
 * Something a guard depends on is broken (corrupt state, unwritable audit log, a guard that threw).
 * Security code fails closed, so this is a block (exit 2), never a pass.
 */
export class BlockedError extends SendgateError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, EXIT.blocked, options);
  }
}

/** The message was allowed but could not be delivered. `retryable` drives the retry loop. */
export class DeliveryError extends SendgateError {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly responseCode: number | undefined;
  /** Set when a guard stopped the delivery midway (a redirect hop that is not allowed): a policy block. */
  readonly blockedBy: { code: string; reason: string } | undefined;

  constructor(
    code: string,
    message: string,
    details: { retryable?: boolean; retryAfterMs?: number; responseCode?: number; blockedBy?: { code: string; reason: string } } = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, EXIT.deliveryFailed, options);
    this.retryable = details.retryable ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.responseCode = details.responseCode;
    this.blockedBy = details.blockedBy;
  }
}

export function isSendgateError(value: unknown): value is SendgateError {
  return value instanceof SendgateError;
}
