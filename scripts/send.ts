#!/usr/bin/env node
// send: guarded, approved, checkpointed, audited delivery of one message. Logic lives in src/.
import { buildEnvironment } from '../src/cli/environment.ts';
import { render } from '../src/cli/output.ts';
import { runCommand } from '../src/cli/run.ts';
import { parseSendArgs, SEND_HELP } from '../src/cli/send-args.ts';
import { executeSend } from '../src/pipeline/send.ts';

await runCommand('send', async () => {
  const input = parseSendArgs(process.argv.slice(2));
  if (input === 'help') return { stdout: SEND_HELP, exitCode: 0 };
  const environment = buildEnvironment({ policyFile: input.policyFile, resolve: input.resolve });
  if (input.protocol === 'xmpp') {
    // The same XMPP transport and contact guards as xmpp-send (loaded only for XMPP sends).
    const { withXmpp } = await import('../src/cli/xmpp-environment.ts');
    const xmpp = withXmpp(environment, { dryRun: input.dryRun });
    try {
      const { output, exitCode } = await executeSend({ ...input, skill: 'send' }, xmpp.environment);
      return { stdout: render(output, input.format), exitCode };
    } finally {
      await xmpp.close();
    }
  }
  const { output, exitCode } = await executeSend({ ...input, skill: 'send' }, environment);
  return { stdout: render(output, input.format), exitCode };
});
