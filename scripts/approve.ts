#!/usr/bin/env node
// approve: the human's side of sendgate approvals (list, show, approve with a terminal confirmation, deny).
import { approveCommand, APPROVE_HELP } from '../src/cli/approve-command.ts';
import { runCommand } from '../src/cli/run.ts';

await runCommand('approve', async () => {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) return { stdout: APPROVE_HELP, exitCode: argv.length === 0 ? 64 : 0 };
  return approveCommand(argv);
});
