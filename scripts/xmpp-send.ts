#!/usr/bin/env node
// xmpp-send: one XMPP message to a contact or a room, through the same pipeline as send. Logic lives in src/.
import '../src/cli/zod-jitless.ts'; // first: before any schema is built
import { render } from '../src/cli/output.ts';
import { runCommand } from '../src/cli/run.ts';
import { buildXmppEnvironment, withXmpp } from '../src/cli/xmpp-environment.ts';
import { parseXmppSendArgs, XMPP_SEND_HELP } from '../src/cli/xmpp-send-args.ts';
import { withAttributionSuffix } from '../src/message/attribution.ts';
import { preview } from '../src/audit/preview.ts';
import { executeSend } from '../src/pipeline/send.ts';

await runCommand('xmpp-send', async () => {
  const input = parseXmppSendArgs(process.argv.slice(2));
  if (input === 'help') return { stdout: XMPP_SEND_HELP, exitCode: 0 };
  const base = buildXmppEnvironment({ policyFile: input.policyFile });
  const trace = process.env.SENDGATE_XMPP_TRACE ? (line: string) => process.stderr.write(`xmpp [${performance.now().toFixed(1)} ms]: ${line}\n`) : undefined;
  const xmpp = withXmpp(base, { dryRun: input.dryRun, ...(trace ? { trace } : {}) });
  try {
    // The attribution suffix is part of the message from the start: the guards, the drafted message
    // the user confirms and the approval digest all cover exactly the text that is sent.
    const body = withAttributionSuffix(input.body, base.policy);
    const destination = /^xmpp:/i.test(input.to) ? input.to : `xmpp:${input.to}`;
    trace?.('pipeline start');
    const { output, exitCode } = await executeSend({
      skill: 'xmpp_send',
      protocol: 'xmpp',
      destination,
      message: { protocol: 'xmpp', body, type: input.type },
      approvalToken: input.approvalToken,
      constraints: {},
      dryRun: input.dryRun,
    }, xmpp.environment);
    trace?.('pipeline done');
    if (output.delivery.status === 'draft') output.next_actions.push(`Drafted message (${input.type} to ${output.delivery.destination}): ${JSON.stringify(preview(body, 2000))}`);
    return { stdout: render(output, input.format), exitCode };
  } finally {
    await xmpp.close();
  }
});
