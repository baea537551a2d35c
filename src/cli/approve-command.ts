import { auditPath, appendAudit } from '../audit/log.ts';
import { loadPolicy } from '../config/load.ts';
import { UsageError } from '../errors.ts';
import { mintToken } from '../state/approvals.ts';
import { StateStore, type PendingApproval } from '../state/store.ts';
import { parseCommandLine } from './args.ts';
import { confirmOnTerminal } from './confirm.ts';
import { render } from './output.ts';
import type { CommandResult } from './run.ts';

export const APPROVE_HELP = `Usage: approve.mjs <command> [options]

The human's side of sendgate approvals. Run it yourself, in a terminal: it asks you to confirm
by typing, so an agent cannot approve its own sends.

Commands:
  list                   pending requests (id, protocol, destination, masked summary)
  show ID                one request in full (masked)
  approve ID [--always]  confirm on the terminal, then print the approval token to hand to the agent
                         (--always: for a first-contact request, never ask again for this contact)
  deny ID                drop the request

Options:
  --policy FILE          policy file (for the approval TTL and audit path)
  --format yaml|json     output format for list/show (default yaml)
  -h, --help             this help
`;

function summary(item: PendingApproval) {
  return {
    id: item.id,
    kind: item.kind,
    skill: item.skill,
    protocol: item.protocol,
    destination: item.destination,
    message_preview: item.summary,
    reason: item.reason,
    created_at: item.created_at,
    expires_at: item.expires_at,
    approved_at: item.approved_at,
  };
}

export async function approveCommand(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseCommandLine(argv, { policy: { type: 'string' }, always: { type: 'boolean' }, format: { type: 'string' } }, 'approve', true);
  const [command, id] = positionals;
  const format = values.format === 'json' ? 'json' : 'yaml';
  const { policy } = loadPolicy({ flag: values.policy });
  const store = new StateStore();
  const now = new Date();
  const pending = () => store.read('approvals').pending;
  const find = (requestId: string | undefined) => {
    if (!requestId) throw new UsageError(`approve ${command}: give the request id (see \`approve.mjs list\`)`);
    const item = pending()[requestId];
    if (!item) throw new UsageError(`approve: no pending request ${requestId} (it may have expired or been used; see \`approve.mjs list\`)`, 'REQUEST_NOT_FOUND');
    return item;
  };

  switch (command) {
    case 'list': {
      const items = Object.values(pending()).filter((item) => Date.parse(item.expires_at) > now.getTime()).map(summary);
      return { stdout: items.length ? render(items, format) : 'No pending approval requests.\n', exitCode: 0 };
    }
    case 'show':
      return { stdout: render(summary(find(id)), format), exitCode: 0 };
    case 'deny': {
      const item = find(id);
      await store.transaction(['approvals'], (state) => {
        delete state.approvals.pending[item.id];
      });
      await appendAudit(auditPath(policy, store.dir), { skill: item.skill, action: 'approval', protocol: item.protocol, destination: item.destination, triggered_by: 'approve.mjs', approval_id: item.id, result: 'denied' });
      return { stdout: `Denied ${item.id}; nothing will be sent for it.\n`, exitCode: 0 };
    }
    case 'approve': {
      const item = find(id);
      if (Date.parse(item.expires_at) <= now.getTime()) throw new UsageError(`approve: request ${item.id} expired at ${item.expires_at}; ask the agent to send again`, 'REQUEST_EXPIRED');
      if (values.always && item.kind !== 'first_contact') throw new UsageError('approve: --always applies to first-contact requests only');
      process.stderr.write(`\n${render(summary(item), 'yaml')}\n`);
      const answer = await confirmOnTerminal(`Send this ${item.protocol} message to ${item.destination}? Type "yes" to approve: `, ['yes', 'y']);
      if (!answer) return { stderr: 'Not approved; nothing was sent.\n', exitCode: 3 };
      const key = await store.hmacKey();
      const expiresAt = new Date(Math.min(Date.parse(item.expires_at), now.getTime() + policy.approval.ttl_seconds * 1000));
      const token = mintToken(key, item.id, item.digest, expiresAt);
      await store.transaction(['approvals', 'contacts'], (state) => {
        const stored = state.approvals.pending[item.id];
        if (stored) {
          stored.approved_at = now.toISOString();
          stored.approved_via = 'approve.mjs';
        }
        if (values.always) state.contacts.always[item.destination] = now.toISOString();
      });
      await appendAudit(auditPath(policy, store.dir), { skill: item.skill, action: 'approval', protocol: item.protocol, destination: item.destination, triggered_by: 'approve.mjs', approval_id: item.id, result: values.always ? 'approved_always' : 'approved' });
      return {
        stdout: `Approved ${item.id} until ${expiresAt.toISOString()} (single use).\nApproval token:\n${token}\n\nGive the token to the agent, or re-run the send yourself with --approval-token ${token}\n`,
        exitCode: 0,
      };
    }
    default:
      throw new UsageError(`approve: unknown command "${command ?? ''}" (expected list, show, approve or deny)`);
  }
}
