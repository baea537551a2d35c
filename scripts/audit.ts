#!/usr/bin/env node
// audit: verify the hash chain, show the latest records, apply retention.
import { AUDIT_HELP, auditCommand } from '../src/cli/audit-command.ts';
import { runCommand } from '../src/cli/run.ts';

await runCommand('audit', async () => {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) return { stdout: AUDIT_HELP, exitCode: argv.length === 0 ? 64 : 0 };
  return auditCommand(argv);
});
