/**
 * Finds, reads and validates the policy. Every failure is a ConfigError (exit 78) naming the file,
 * the key path and what was expected; a policy that does not parse never falls back to defaults.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { policySchema, type Policy } from './schema.ts';

export interface LoadedPolicy {
  policy: Policy;
  /** The file it came from, or null when no policy exists and the secure defaults apply. */
  source: string | null;
}

export interface PolicyLocationInputs {
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The search order of DESIGN.md: --policy, SENDGATE_POLICY, the project's .claude/sendgate.yaml, the user's file. */
export function policyCandidates({ flag, env = process.env }: PolicyLocationInputs): { path: string; explicit: boolean }[] {
  if (flag) return [{ path: flag, explicit: true }];
  if (env.SENDGATE_POLICY) return [{ path: env.SENDGATE_POLICY, explicit: true }];
  const candidates: { path: string; explicit: boolean }[] = [];
  if (env.CLAUDE_PROJECT_DIR) candidates.push({ path: join(env.CLAUDE_PROJECT_DIR, '.claude', 'sendgate.yaml'), explicit: false });
  const home = env.HOME || homedir();
  candidates.push({ path: join(home, '.config', 'sendgate', 'policy.yaml'), explicit: false });
  return candidates;
}

export function loadPolicy(inputs: PolicyLocationInputs = {}): LoadedPolicy {
  for (const candidate of policyCandidates(inputs)) {
    let text: string;
    try {
      text = readFileSync(candidate.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A file the user named must exist; a conventional location may simply be unused.
      if (code === 'ENOENT' && !candidate.explicit) continue;
      throw new ConfigError(
        `${candidate.path}: cannot read the policy (${code ?? (error as Error).message})` +
          (code === 'ENOENT' ? '; create it or point --policy / SENDGATE_POLICY at an existing file' : ''),
        { file: candidate.path, code: 'CONFIG_UNREADABLE' },
        { cause: error },
      );
    }
    return { policy: parsePolicyText(text, candidate.path), source: candidate.path };
  }
  return { policy: defaultPolicy(), source: null };
}

export function defaultPolicy(): Policy {
  return policySchema.parse({ version: 1 });
}

export function parsePolicyText(text: string, file = '<policy>'): Policy {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const where = first.linePos?.[0] ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${file}${where}: not valid YAML: ${message}`, { file, code: 'CONFIG_YAML' });
  }
  const data: unknown = document.toJS();
  if (data === null || data === undefined) {
    throw new ConfigError(`${file}: the policy is empty; it needs at least \`version: 1\``, { file });
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${file}: the policy must be a mapping of keys (version, destinations, ...), not a ${Array.isArray(data) ? 'list' : typeof data}`, { file });
  }
  const result = policySchema.safeParse(data);
  if (!result.success) throw policyIssueError(result.error, file);
  return result.data;
}

function policyIssueError(error: z.ZodError, file: string): ConfigError {
  const issue = error.issues[0]!;
  const keyPath = issue.path.map(String).join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const at = keyPath ? `${keyPath}.` : '';
    message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((key) => `"${at}${key}"`).join(', ')} (check the spelling against schemas/policy.schema.json)`;
    return new ConfigError(`${file}: ${message}`, { file, keyPath: `${at}${keys[0]}` });
  }
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new ConfigError(`${file}: ${keyPath || '(top level)'}: ${message}${more}`, { file, keyPath });
}
