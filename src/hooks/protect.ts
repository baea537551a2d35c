/**
 * Keeps the model's own tool calls away from what only the human may touch: sendgate's state
 * directory (the approval key, pending approvals, rate windows, the audit log), the approve
 * command, the policy files (editing the policy would switch the guards off), and Claude Code's
 * own configuration of sendgate's hooks (settings files, the installed plugin and skills, the
 * plugin/skill commands and hook-bypass variables: settings-guard.ts). Cheap and synchronous: it
 * runs on every tool call.
 *
 * A reason about the state or the policy is a bare clause (callers prefix `STATE_PROTECTED: `);
 * one about the hook configuration starts with `CONFIG_PROTECTED: `. `denyReason` turns either
 * into the full reason the model sees.
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { basename, displayWord, type ParsedCommandLine } from '../egress/shell.ts';
import { stateDir } from '../state/paths.ts';
import { configChange } from './settings-guard.ts';

export interface ProtectContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const STATE_HINT = 'sendgate keeps approvals, rate limits and the audit log there; only the user may touch it (they run approve.mjs in their own terminal)';

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

function policyFiles(env: NodeJS.ProcessEnv): string[] {
  const files = [join(home(env), '.config', 'sendgate', 'policy.yaml')];
  if (env.CLAUDE_PROJECT_DIR) files.push(join(env.CLAUDE_PROJECT_DIR, '.claude', 'sendgate.yaml'));
  if (env.SENDGATE_POLICY) files.push(resolve(env.SENDGATE_POLICY));
  return files;
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function expand(path: string, ctx: ProtectContext): string {
  const text = path.startsWith('~/') || path === '~' ? join(home(ctx.env), path.slice(1)) : path;
  return resolve(ctx.cwd, text);
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function touchesState(path: string, ctx: ProtectContext): boolean {
  const dir = stateDir(ctx.env);
  const full = expand(path, ctx);
  return inside(full, dir) || inside(realOrSelf(full), realOrSelf(dir)) || /(^|\/)\.local\/state\/sendgate(\/|$)/.test(full);
}

function isPolicyFile(path: string, ctx: ProtectContext): boolean {
  const full = expand(path, ctx);
  const real = realOrSelf(full);
  return policyFiles(ctx.env).some((file) => file === full || file === real) || /(^|\/)\.claude\/sendgate\.ya?ml$|(^|\/)\.config\/sendgate\//.test(full);
}

/**
 * Whether `path` (absolute) is one of the user's own policy files (--policy may name only these
 * in the model's sender invocations: any other file could be one the model wrote itself).
 */
export function isUserPolicyFile(path: string, env: NodeJS.ProcessEnv): boolean {
  const real = realOrSelf(path);
  return policyFiles(env).some((file) => file === path || realOrSelf(file) === real);
}

export const CONFIG_PROTECTED = 'CONFIG_PROTECTED';

/** The reason for a change to sendgate's hook configuration (`what` says which change). */
export function configReason(what: string): string {
  return `${CONFIG_PROTECTED}: ${what} would switch off or change sendgate's hooks; ask the user to make this change themselves.`;
}

/** The full deny reason for what `protectedAccess` returned: `sendgate: CONFIG_PROTECTED: ...` or `sendgate: STATE_PROTECTED: ...`. */
export function denyReason(reason: string): string {
  return reason.startsWith(`${CONFIG_PROTECTED}: `) ? `sendgate: ${reason}` : `sendgate: STATE_PROTECTED: ${reason}`;
}

/** A reason to deny, or null. `parsed` is the parsed Bash command (for Bash only). */
export function protectedAccess(toolName: string, toolInput: Record<string, unknown>, ctx: ProtectContext, parsed?: ParsedCommandLine): string | null {
  const reason = stateOrPolicyAccess(toolName, toolInput, ctx, parsed);
  if (reason) return reason;
  const what = configChange(toolName, toolInput, ctx, parsed);
  return what ? configReason(what) : null;
}

function stateOrPolicyAccess(toolName: string, toolInput: Record<string, unknown>, ctx: ProtectContext, parsed?: ParsedCommandLine): string | null {
  switch (toolName) {
    case 'Bash':
      return bashAccess(String(toolInput.command ?? ''), ctx, parsed);
    case 'Read':
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
    case 'NotebookEdit':
    case 'NotebookRead': {
      const path = String(toolInput.file_path ?? toolInput.notebook_path ?? toolInput.path ?? '');
      if (!path) return null;
      if (touchesState(path, ctx)) return `${toolName} on sendgate's state directory is not allowed: ${STATE_HINT}`;
      if (toolName !== 'Read' && toolName !== 'NotebookRead' && isPolicyFile(path, ctx)) {
        return `${toolName} on the sendgate policy (${path}) is not allowed: only the user changes what may be sent; ask them to edit it`;
      }
      return null;
    }
    case 'Glob':
    case 'Grep':
    case 'LS': {
      for (const key of ['path', 'pattern', 'glob']) {
        const value = toolInput[key];
        if (typeof value !== 'string' || !value) continue;
        if ((key === 'path' && touchesState(value, ctx)) || /(^|\/)\.local\/state\/sendgate(\/|$)/.test(value)) {
          return `${toolName} on sendgate's state directory is not allowed: ${STATE_HINT}`;
        }
      }
      return null;
    }
    default:
      return null;
  }
}

const WRITERS = new Set(['tee', 'sed', 'mv', 'cp', 'rm', 'ln', 'truncate', 'dd', 'chmod', 'chown', 'install', 'perl', 'python', 'python3', 'node', 'vi', 'vim', 'nano', 'ed', 'awk', 'rsync', 'unlink', 'touch']);

function bashAccess(command: string, ctx: ProtectContext, parsed?: ParsedCommandLine): string | null {
  if (/(^|[\/\s"'`=;&|(])approve\.(mjs|ts)\b/.test(command)) {
    return 'running sendgate\'s approve command is for the user only (in their own terminal); ask the user to approve instead';
  }
  if (/(^|[\/\s"'`=;&|(])audit\.(mjs|ts)\b[^\n;&|]*\bprune\b/.test(command)) {
    return 'pruning sendgate\'s audit log is for the user only (it removes records); ask the user to run it if it is needed';
  }
  const dir = stateDir(ctx.env);
  if (command.includes(dir) || /\.local\/state\/sendgate\b/.test(command) || /\$\{?SENDGATE_HOME\b/.test(command) || /XDG_STATE_HOME\}?\/sendgate\b/.test(command) || /\bapproval\.key\b/.test(command)) {
    return `this command touches sendgate's state directory: ${STATE_HINT}`;
  }
  if (/\bSENDGATE_(HOME|POLICY)=/.test(command)) {
    return 'setting SENDGATE_HOME or SENDGATE_POLICY in a command would swap sendgate\'s state or policy; only the user configures those';
  }
  if (parsed && /sendgate|\.config\/|\.claude\//.test(command)) {
    for (const c of parsed.commands) {
      const writesRedirect = c.redirects.some((r) => /^(>|>>|>\||&>|&>>|<>)$/.test(r.op) && isPolicyFile(displayWord(r.target), ctx));
      const name = c.argv[0] ? basename(c.argv[0]) : '';
      const writesArg = WRITERS.has(name) && c.argv.slice(1).some((arg) => !arg.startsWith('-') && isPolicyFile(displayWord(arg), ctx));
      if (writesRedirect || writesArg) return 'changing the sendgate policy is for the user only: ask them to edit it';
    }
  }
  return null;
}
