import { existsSync } from 'node:fs';
import { auditPath, pruneAudit, readAuditLines, verifyAudit } from '../audit/log.ts';
import { loadPolicy } from '../config/load.ts';
import { UsageError } from '../errors.ts';
import { StateStore } from '../state/store.ts';
import { parseCommandLine, parseIntegerFlag } from './args.ts';
import type { CommandResult } from './run.ts';

export const AUDIT_HELP = `Usage: audit.mjs <command> [options]

The tamper-evident audit log (JSONL, hash-chained).

Commands:
  verify                 check every line's hash and its link to the line before; names the first bad line
  tail [-n N]            print the last N records (default 10)
  prune [--days N]       drop records older than N days (default: audit.retention_days of the policy)

Options:
  --file PATH            the audit log (default: audit.path of the policy, else <state>/audit/sendgate.jsonl)
  --policy FILE          policy file
  -h, --help             this help

Exit codes: 0 ok; 2 the log was tampered with (verify); 64 bad usage; 78 bad configuration.
`;

export async function auditCommand(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseCommandLine(argv, { file: { type: 'string' }, policy: { type: 'string' }, days: { type: 'string' }, n: { type: 'string', short: 'n' } }, 'audit', true);
  const { policy } = loadPolicy({ flag: values.policy });
  const path = values.file ?? auditPath(policy, new StateStore().dir);
  const [command] = positionals;
  if (command !== 'verify' && command !== 'tail' && command !== 'prune') throw new UsageError(`audit: unknown command "${command ?? ''}" (expected verify, tail or prune)`);
  if (!existsSync(path)) return { stdout: `No audit log at ${path} yet (nothing has been recorded).\n`, exitCode: 0 };
  switch (command) {
    case 'verify': {
      const result = verifyAudit(path);
      if (result.ok) return { stdout: `OK: ${result.records} record(s) in ${path}, hash chain intact.\n`, exitCode: 0 };
      return { stdout: `TAMPERED: ${path} line ${result.line}: ${result.reason}.\n`, exitCode: 2 };
    }
    case 'tail': {
      const count = parseIntegerFlag(values.n, '-n', 1, 10_000) ?? 10;
      const lines = readAuditLines(path).filter(Boolean);
      return { stdout: `${lines.slice(-count).join('\n')}\n`, exitCode: 0 };
    }
    case 'prune': {
      const days = parseIntegerFlag(values.days, '--days', 1, 36_500) ?? policy.audit.retention_days;
      const result = await pruneAudit(path, days);
      return { stdout: `Pruned ${result.removed} record(s) older than ${days} day(s); ${result.kept} kept.\n`, exitCode: 0 };
    }
  }
}
