/**
 * XMPP end to end: the real bundled CLIs (xmpp-send.mjs, send.mjs, approve.mjs, built from the
 * current sources into a temporary directory) as child processes, against a real Prosody 0.12 on
 * 127.0.0.1 (test/e2e/support/prosody.ts) and real client sessions on the other side
 * (test/e2e/support/xmpp-peer.ts).
 *
 * Covers issue 6: a chat message the peer receives with its XEP-0184 receipt returned; a groupchat
 * message another occupant receives; roster and mutual-subscription allowlists; first contact ->
 * confirmation -> delivered -> the next needs none; "always" (approve.mjs --always on a terminal)
 * and "no"; draft mode; per-contact, per-minute limits and the cooldown; unknown user, unknown
 * room, bad password, server down, untrusted certificate; direct TLS; SCRAM-SHA-256; the password
 * file; attribution; the size limit and the secret scan; `send --protocol xmpp`; one connection
 * per invocation, closed cleanly; the audit record's fields.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xml from '@xmpp/xml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAll } from '../../scripts/build.ts';
import { outputSchema, type SendOutput } from '../../src/contract.ts';
import { mintToken } from '../../src/state/approvals.ts';
import { StateStore } from '../../src/state/store.ts';
import { approveOnTerminal as approveViaScript, cliEnv, freePort, runCli, writePolicyFile, type TerminalApproval } from './support/cli.ts';
import { startProsody, type ProsodyServer } from './support/prosody.ts';
import { connectPeer, subscribe, type Peer } from './support/xmpp-peer.ts';

const PASSWORD = 'agent-secret-pw';
let bundles: string;
let XMPP_SEND: string;
let SEND: string;
let APPROVE: string;
let server: ProsodyServer;
let bob: Peer;
let work: string;

beforeAll(async () => {
  bundles = mkdtempSync(join(tmpdir(), 'sendgate-e2e-xmpp-bundles-'));
  const [, started] = await Promise.all([
    buildAll(bundles),
    startProsody({
      users: { agent: PASSWORD, bob: 'bob-pw', carol: 'carol-pw', dan: 'dan-pw', erin: 'erin-pw', frank: 'frank-pw' },
      sha256Users: { agent: PASSWORD },
    }),
  ]);
  server = started;
  XMPP_SEND = join(bundles, 'skills', 'xmpp_send', 'scripts', 'xmpp-send.mjs');
  APPROVE = join(bundles, 'skills', 'xmpp_send', 'scripts', 'approve.mjs');
  SEND = join(bundles, 'skills', 'send', 'scripts', 'send.mjs');
  // The agent's roster: carol mutual ("both"), dan one-way ("to": the agent sees dan, dan never agreed).
  await subscribe(server, ['agent', PASSWORD], ['carol', 'carol-pw'], 'both');
  await subscribe(server, ['agent', PASSWORD], ['dan', 'dan-pw'], 'to');
  bob = await connectPeer(server, 'bob', 'bob-pw');
  await bob.joinRoom(`lobby@${server.mucDomain}`, 'bob');
});

afterAll(async () => {
  await bob?.close();
  await server?.stop();
  if (bundles) rmSync(bundles, { recursive: true, force: true });
});

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'sendgate-e2e-xmpp-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const agentJid = () => `agent@${server.domain}`;
const jid = (user: string) => `${user}@${server.domain}`;

function writePolicy(xmpp: Record<string, unknown> = {}, top: Record<string, unknown> = {}): string {
  const policy = {
    version: 1,
    approval: { required: false },
    network: { allow_private: ['127.0.0.1/32'] },
    rate_limit: { max_messages_per_minute: 100, max_messages_per_hour: 1000, max_messages_per_destination_per_hour: 1000, cooldown_after_limit: 0 },
    delivery: { timeout_ms: 5_000, max_attempts: 2, base_delay_ms: 10, max_delay_ms: 50 },
    ...top,
    xmpp: {
      jid: agentJid(),
      password_env: 'SENDGATE_XMPP_PASSWORD',
      service: server.service,
      ca_file: server.caFile,
      require_first_contact_confirmation: false,
      receipt_timeout_ms: 3_000,
      max_messages_per_contact_per_hour: 100,
      ...xmpp,
    },
  };
  return writePolicyFile(work, policy, `policy-${Math.random().toString(36).slice(2, 8)}.yaml`);
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cliEnv(work, { SENDGATE_XMPP_PASSWORD: PASSWORD, ...extra });
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  output: SendOutput | null;
}

async function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const { exitCode, stdout, stderr } = await runCli(process.execPath, [script, ...args], { cwd: work, env: childEnv(env), timeoutMs: 60_000 });
  const output = stdout.trim().startsWith('{') ? outputSchema.parse(JSON.parse(stdout)) : null;
  return { exitCode, stdout, stderr, output };
}

interface XmppSendOptions {
  policy: string;
  type?: 'chat' | 'groupchat';
  token?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

function xmppSend(to: string, body: string, options: XmppSendOptions): Promise<RunResult> {
  return runNode(XMPP_SEND, [
    '--to', to, '--body', body, '--policy', options.policy, '--format', 'json',
    ...(options.type ? ['--type', options.type] : []),
    ...(options.token ? ['--approval-token', options.token] : []),
    ...(options.args ?? []),
  ], options.env);
}

function out(result: RunResult): SendOutput {
  if (!result.output) throw new Error(`no contract printed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  return result.output;
}
const codes = (result: RunResult) => out(result).constraints_applied.map((constraint) => constraint.code);
const store = () => new StateStore(join(work, 'state'));
const auditRecords = () => readFileSync(join(work, 'state', 'audit', 'sendgate.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2, 10)}`;

/** Prosody's log lines since `mark` (the log's length when the test started). */
async function logSince(mark: number): Promise<string> {
  return (await server.log()).slice(mark);
}

async function approveInProcess(requestId: string): Promise<string> {
  const state = store();
  const pending = state.read('approvals').pending[requestId];
  if (!pending) throw new Error(`no pending request ${requestId}`);
  return mintToken(await state.hmacKey(), pending.id, pending.digest, new Date(Date.parse(pending.expires_at)));
}

/** The human's side for real: approve.mjs on a terminal (script(1) gives it a pty). */
function approveOnTerminal(args: string[], answer = 'yes'): Promise<TerminalApproval> {
  return approveViaScript([process.execPath, APPROVE, ...args], { cwd: work, env: childEnv(), answer });
}

describe('delivery', () => {
  it('delivers a chat message bob really receives, with the XEP-0184 receipt returned, over one clean session', async () => {
    const mark = (await server.log()).length;
    const policy = writePolicy({ allowed_contacts: [jid('bob')] });
    const body = unique('Deploy finished');
    const result = await xmppSend(jid('bob'), body, { policy });

    expect(result.exitCode).toBe(0);
    const output = out(result);
    expect(output.sent).toBe(true);
    expect(output.delivery).toMatchObject({ status: 'sent', protocol: 'xmpp', destination: `xmpp:${jid('bob')}`, error: null, retry_count: 0 });
    expect(output.delivery.confirmation).toMatch(/server acknowledged it \(XEP-0198, h=\d+\)/);
    expect(output.delivery.confirmation).toMatch(new RegExp(`XEP-0184 receipt from ${jid('bob')}/peer`));
    expect(output.evidence_anchors.join('\n')).toMatch(/STARTTLS TLSv1\.3, certificate verified for sendgate\.test, SASL SCRAM-SHA-1/);
    expect(codes(result)).toEqual(expect.arrayContaining(['CONTACT_ALLOWED', 'RATE_LIMIT_OK', 'CHECKPOINT_OK']));

    const received = await bob.waitForMessage((message) => message.body === body);
    expect(received.type).toBe('chat');
    expect(received.receiptRequested).toBe(true);
    expect(received.id).toBe(`sendgate-${output.checkpoint_ref}`);
    expect(received.from).toMatch(new RegExp(`^${agentJid()}/sendgate\\.[0-9a-f]{6}$`));

    // One connection, one login, closed by the client with </stream:stream>.
    const log = await logSince(mark);
    expect(log.match(/Authenticated as agent@sendgate\.test/g)).toHaveLength(1);
    expect(log).toMatch(/Client disconnected/);

    // The audit record in the seed's shape.
    const delivery = auditRecords().find((record) => record.action === 'delivery')!;
    expect(delivery).toMatchObject({ skill: 'xmpp_send', action: 'delivery', to: jid('bob'), result: 'sent', triggered_by: 'cli' });
    for (const field of ['timestamp', 'body_hash', 'body_preview', 'conversation_id']) expect(delivery).toHaveProperty(field);
    expect(delivery.body_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports "no receipt" (still sent: the server has it) when the recipient is offline', async () => {
    const policy = writePolicy({ allowed_contacts: [jid('erin')], receipt_timeout_ms: 300 });
    const result = await xmppSend(jid('erin'), unique('for later'), { policy });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery.status).toBe('sent');
    expect(out(result).delivery.confirmation).toMatch(/no XEP-0184 receipt within 300 ms/);
  });

  it('delivers a groupchat message another occupant receives, after the join is confirmed', async () => {
    const room = `lobby@${server.mucDomain}`;
    const policy = writePolicy({ allowed_contacts: [room], nick: 'helper-bot' });
    const body = unique('Standup in 5');
    const result = await xmppSend(room, body, { policy, type: 'groupchat' });
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery.confirmation).toMatch(/as "helper-bot".*the room reflected it/);
    const received = await bob.waitForMessage((message) => message.body === body);
    expect(received).toMatchObject({ type: 'groupchat', from: `${room}/helper-bot` });

    // The room refuses the join (bob already holds the nick): failed with the condition, nothing sent.
    const taken = await xmppSend(room, unique('never'), { policy: writePolicy({ allowed_contacts: [room], nick: 'bob' }), type: 'groupchat' });
    expect(taken.exitCode).toBe(1);
    expect(out(taken).delivery.error).toMatch(/^XMPP_ROOM_JOIN_FAILED: joining lobby@conference\.sendgate\.test as "bob" was refused: conflict/);

    // A room that banned the agent: forbidden.
    const closed = `closed@${server.mucDomain}`;
    await bob.joinRoom(closed, 'bob');
    await bob.session.iq('set', xml('query', { xmlns: 'http://jabber.org/protocol/muc#admin' }, xml('item', { affiliation: 'outcast', jid: agentJid() })), closed, 5_000);
    const banned = await xmppSend(closed, unique('never'), { policy: writePolicy({ allowed_contacts: [closed] }), type: 'groupchat' });
    expect(banned.exitCode).toBe(1);
    expect(out(banned)).toMatchObject({ sent: false, delivery: { status: 'failed' } });
    expect(out(banned).delivery.error).toMatch(/^XMPP_ROOM_JOIN_FAILED: .* was refused: forbidden/);
  });

  it('fails (never "sent") for an unknown user, a missing room and a remote domain, with the condition', async () => {
    const policy = writePolicy();
    const unknown = await xmppSend(jid('nobody'), 'hello?', { policy });
    expect(unknown.exitCode).toBe(1);
    expect(out(unknown)).toMatchObject({ sent: false, delivery: { status: 'failed' } });
    expect(out(unknown).delivery.error).toMatch(/^XMPP_STANZA_ERROR: .*service-unavailable/);
    expect(out(unknown).delivery.retry_count).toBe(0);

    const room = await xmppSend(`nothere@${server.mucDomain}`, 'hello?', { policy, type: 'groupchat' });
    expect(room.exitCode).toBe(1);
    expect(out(room).delivery.error).toMatch(/XMPP_STANZA_ERROR: .*item-not-found/);

    const remote = await xmppSend('someone@elsewhere.example', 'hello?', { policy });
    expect(remote.exitCode).toBe(1);
    expect(out(remote).delivery.error).toMatch(/not-allowed/);
  });

  it('fails with XMPP_AUTH_FAILED on a bad password, without retrying', async () => {
    const policy = writePolicy({ allowed_contacts: [jid('bob')] });
    const result = await xmppSend(jid('bob'), 'hi', { policy, env: { SENDGATE_XMPP_PASSWORD: 'wrong' } });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery).toMatchObject({ status: 'failed', retry_count: 0 });
    expect(out(result).delivery.error).toMatch(/^XMPP_AUTH_FAILED: .*not-authorized/);
    expect(result.stdout).not.toContain('wrong');
  });

  it('fails with XMPP_CONNECT_FAILED when the server is down, after the bounded retries', async () => {
    const port = await freePort();
    const policy = writePolicy({ allowed_contacts: [jid('bob')], service: `xmpp://127.0.0.1:${port}` });
    const result = await xmppSend(jid('bob'), 'hi', { policy });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery).toMatchObject({ status: 'failed', retry_count: 1 });
    expect(out(result).delivery.error).toMatch(/^XMPP_CONNECT_FAILED: .*ECONNREFUSED/);
  });

  it('fails with XMPP_TLS_UNTRUSTED when the certificate is not trusted (no CA file), and never logs in', async () => {
    const mark = (await server.log()).length;
    const policy = writePolicy({ allowed_contacts: [jid('bob')], ca_file: null });
    const result = await xmppSend(jid('bob'), 'hi', { policy });
    expect(result.exitCode).toBe(1);
    expect(out(result).delivery.error).toMatch(/^XMPP_TLS_UNTRUSTED: .*not trusted for sendgate\.test/);
    expect(await logSince(mark)).not.toMatch(/Authenticated as/);
  });

  it('speaks direct TLS (xmpps://) and SCRAM-SHA-256', async () => {
    const direct = writePolicy({ allowed_contacts: [jid('bob')], service: server.directTlsService });
    const body = unique('over direct TLS');
    const result = await xmppSend(jid('bob'), body, { policy: direct });
    expect(result.exitCode).toBe(0);
    expect(out(result).evidence_anchors.join('\n')).toMatch(/direct TLS/);
    await bob.waitForMessage((message) => message.body === body);

    const sha256 = writePolicy({ jid: `agent@${server.sha256Domain}`, allowed_contacts: [jid('bob')] });
    const body2 = unique('over SCRAM-SHA-256');
    const result2 = await xmppSend(jid('bob'), body2, { policy: sha256 });
    expect(result2.exitCode).toBe(0);
    expect(out(result2).evidence_anchors.join('\n')).toMatch(/SASL SCRAM-SHA-256/);
    expect((await bob.waitForMessage((message) => message.body === body2)).from).toMatch(new RegExp(`^agent@${server.sha256Domain}/`));
  });

  it('reads the password from a 0600 file named in the policy, refuses a looser one, and takes none from argv', async () => {
    const file = join(work, 'xmpp-password');
    writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
    const policy = writePolicy({ allowed_contacts: [jid('bob')], password_file: file, password_env: null });
    const body = unique('password from a file');
    const ok = await xmppSend(jid('bob'), body, { policy, env: { SENDGATE_XMPP_PASSWORD: undefined } });
    expect(ok.exitCode).toBe(0);
    await bob.waitForMessage((message) => message.body === body);

    chmodSync(file, 0o644);
    const loose = await xmppSend(jid('bob'), 'hi', { policy, env: { SENDGATE_XMPP_PASSWORD: undefined } });
    expect(loose.exitCode).toBe(78);
    expect(loose.stderr).toMatch(/CONFIG_INSECURE: xmpp.password_file: .* chmod 600/);

    const argv = await xmppSend(jid('bob'), 'hi', { policy, args: ['--password', PASSWORD] });
    expect(argv.exitCode).toBe(64);

    const missing = await xmppSend(jid('bob'), 'hi', { policy: writePolicy({ allowed_contacts: [jid('bob')] }), env: { SENDGATE_XMPP_PASSWORD: undefined } });
    expect(missing.exitCode).toBe(78);
    expect(missing.stderr).toMatch(/SENDGATE_XMPP_PASSWORD/);
  });

  it('marks the agent: attribution suffix on the body, configured resource on the connection', async () => {
    const policy = writePolicy({ allowed_contacts: [jid('bob')], attribution: { suffix: '— sent by my assistant', resource: 'assistant' } });
    const body = unique('Reminder');
    const result = await xmppSend(jid('bob'), body, { policy });
    expect(result.exitCode).toBe(0);
    const received = await bob.waitForMessage((message) => message.body?.startsWith(body) ?? false);
    expect(received.body).toBe(`${body}\n— sent by my assistant`);
    expect(received.from).toMatch(new RegExp(`^${agentJid()}/assistant\\.[0-9a-f]{6}$`));
  });

  it('`send --protocol xmpp --destination xmpp:user@domain` uses the same transport and guards', async () => {
    const policy = writePolicy({ allowed_contacts: [jid('bob')] });
    const body = unique('via the generic send');
    const result = await runNode(SEND, ['--destination', `xmpp:${jid('bob')}`, '--protocol', 'xmpp', '--message', body, '--policy', policy, '--format', 'json']);
    expect(result.exitCode).toBe(0);
    expect(out(result).delivery.confirmation).toMatch(/XEP-0184 receipt from/);
    await bob.waitForMessage((message) => message.body === body);

    const blocked = await runNode(SEND, ['--destination', `xmpp:${jid('frank')}`, '--protocol', 'xmpp', '--message', 'hi', '--policy', policy, '--format', 'json']);
    expect(blocked.exitCode).toBe(2);
    expect(codes(blocked)).toContain('CONTACT_NOT_ALLOWED');
  });
});

describe('contact guardrails', () => {
  it('admits roster contacts only with a mutual subscription under allow_subscribed_only, on the same session it sends with', async () => {
    const mark = (await server.log()).length;
    const policy = writePolicy({ allow_roster_contacts: true, allow_subscribed_only: true });
    const carol = await connectPeer(server, 'carol', 'carol-pw');
    try {
      const body = unique('hi carol');
      const mutual = await xmppSend(jid('carol'), body, { policy });
      expect(mutual.exitCode).toBe(0);
      expect(out(mutual).constraints_applied.find((constraint) => constraint.code === 'CONTACT_ALLOWED')?.reason).toMatch(/roster \(subscription "both"\)/);
      await carol.waitForMessage((message) => message.body === body);
      // The roster fetch and the delivery shared one login.
      expect((await logSince(mark)).match(/Authenticated as agent@sendgate\.test/g)).toHaveLength(1);
    } finally {
      await carol.close();
    }

    const oneWay = await xmppSend(jid('dan'), 'hi dan', { policy });
    expect(oneWay.exitCode).toBe(2);
    expect(out(oneWay).delivery.status).toBe('blocked');
    expect(out(oneWay).constraints_applied.at(-1)).toMatchObject({ code: 'CONTACT_NOT_ALLOWED', result: 'block' });
    expect(out(oneWay).delivery.error).toMatch(/subscription "to".*allow_subscribed_only/);

    const stranger = await xmppSend(jid('bob'), 'hi bob', { policy });
    expect(stranger.exitCode).toBe(2);
    expect(codes(stranger)).toContain('CONTACT_NOT_ALLOWED');

    const relaxed = writePolicy({ allow_roster_contacts: true, allow_subscribed_only: false, receipt_timeout_ms: 200 });
    const dan = await xmppSend(jid('dan'), unique('hi dan'), { policy: relaxed });
    expect(dan.exitCode).toBe(0);
  });

  it('blocks contacts off allowed_contacts (JIDs, rooms, domain wildcards)', async () => {
    const policy = writePolicy({ allowed_contacts: [`*@${server.domain}`] });
    expect((await xmppSend(jid('bob'), unique('wildcard'), { policy })).exitCode).toBe(0);
    const room = await xmppSend(`lobby@${server.mucDomain}`, 'hi', { policy, type: 'groupchat' });
    expect(room.exitCode).toBe(2);
    expect(out(room).delivery.error).toMatch(/CONTACT_NOT_ALLOWED: the room lobby@conference\.sendgate\.test is not on xmpp.allowed_contacts/);
  });

  it('first contact -> confirmation_required with the draft -> confirmed -> delivered -> the second message needs none', async () => {
    const policy = writePolicy({ allowed_contacts: [jid('bob')], require_first_contact_confirmation: true });
    const body = unique('Hello Bob, this is the assistant');
    const first = await xmppSend(jid('bob'), body, { policy });
    expect(first.exitCode).toBe(3);
    const output = out(first);
    expect(output).toMatchObject({ sent: false, delivery: { status: 'confirmation_required' }, approval: { required: true, status: 'missing' } });
    expect(codes(first)).toContain('CONFIRMATION_REQUIRED');
    expect(output.next_actions.join('\n')).toContain(body);
    expect(output.next_actions.join('\n')).toMatch(/yes, no, or always/);
    const requestId = output.approval.request_id!;
    expect(store().read('approvals').pending[requestId]).toMatchObject({ kind: 'first_contact', destination: `xmpp:${jid('bob')}` });
    expect(bob.messages.some((message) => message.body === body)).toBe(false);

    const token = await approveInProcess(requestId);
    const confirmed = await xmppSend(jid('bob'), body, { policy, token });
    expect(confirmed.exitCode).toBe(0);
    expect(out(confirmed).approval.status).toBe('consumed');
    await bob.waitForMessage((message) => message.body === body);
    expect(Object.keys(store().read('contacts').confirmed)).toContain(`xmpp:${jid('bob')}`);

    const second = await xmppSend(jid('bob'), unique('second message'), { policy });
    expect(second.exitCode).toBe(0);
    expect(codes(second)).not.toContain('CONFIRMATION_REQUIRED');
    expect(out(second).approval).toMatchObject({ required: false, status: 'not_required' });
  });

  it('"always": approve.mjs --always on a terminal remembers the contact; later messages need no confirmation or approval', async () => {
    // approval.required stays on: "always" waives it for this contact only.
    const policy = writePolicy({ allowed_contacts: [jid('bob'), jid('carol')], require_first_contact_confirmation: true }, { approval: { required: true } });
    const body = unique('First hello');
    const first = await xmppSend(jid('bob'), body, { policy });
    expect(out(first).delivery.status).toBe('confirmation_required');
    const approved = await approveOnTerminal(['approve', out(first).approval.request_id!, '--always', '--policy', policy]);
    expect(approved.exitCode).toBe(0);
    expect(approved.token).toMatch(/^sg1\./);
    expect(Object.keys(store().read('contacts').always)).toContain(`xmpp:${jid('bob')}`);

    expect((await xmppSend(jid('bob'), body, { policy, token: approved.token! })).exitCode).toBe(0);
    await bob.waitForMessage((message) => message.body === body);
    const later = await xmppSend(jid('bob'), unique('later'), { policy });
    expect(later.exitCode).toBe(0);
    expect(out(later).constraints_applied).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'APPROVAL_NOT_REQUIRED', guard: 'xmpp_contacts' })]));

    // Another contact still asks, and "no" (approve.mjs deny) sends nothing.
    const other = await xmppSend(jid('carol'), 'hi carol', { policy });
    expect(out(other).delivery.status).toBe('confirmation_required');
    const denied = await runNode(APPROVE, ['deny', out(other).approval.request_id!, '--policy', policy]);
    expect(denied.exitCode).toBe(0);
    expect(store().read('approvals').pending[out(other).approval.request_id!]).toBeUndefined();
  });

  it('draft mode proposes and never connects or sends', async () => {
    const mark = (await server.log()).length;
    const policy = writePolicy({ allowed_contacts: [jid('bob')] }, { mode: 'draft' });
    const body = unique('Draft only');
    const result = await xmppSend(jid('bob'), body, { policy });
    expect(result.exitCode).toBe(0);
    expect(out(result)).toMatchObject({ sent: false, delivery: { status: 'draft' } });
    expect(out(result).next_actions.join('\n')).toContain(body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bob.messages.some((message) => message.body === body)).toBe(false);
    expect(await logSince(mark)).not.toMatch(/Authenticated as agent/);
  });

  it('dry run checks everything, sends nothing and counts nothing', async () => {
    const policy = writePolicy({ allowed_contacts: [jid('bob')], max_messages_per_contact_per_hour: 1 });
    const body = unique('dry');
    const dry = await xmppSend(jid('bob'), body, { policy, args: ['--dry-run'] });
    expect(dry.exitCode).toBe(0);
    expect(out(dry).delivery.status).toBe('dry_run');
    expect((await xmppSend(jid('bob'), unique('real'), { policy })).exitCode).toBe(0);
    expect(bob.messages.some((message) => message.body === body)).toBe(false);
  });

  it('limits per contact per hour, then per minute with a cooldown that holds every contact', async () => {
    const perContact = writePolicy({ allowed_contacts: [`*@${server.domain}`], max_messages_per_contact_per_hour: 2, receipt_timeout_ms: 200 });
    expect((await xmppSend(jid('bob'), unique('1'), { policy: perContact })).exitCode).toBe(0);
    expect((await xmppSend(jid('bob'), unique('2'), { policy: perContact })).exitCode).toBe(0);
    const third = await xmppSend(jid('bob'), unique('3'), { policy: perContact });
    expect(third.exitCode).toBe(2);
    expect(out(third).delivery.error).toMatch(/^RATE_LIMITED: xmpp.max_messages_per_contact_per_hour \(xmpp:bob@sendgate.test\)/);
    // Another contact is not affected by bob's limit.
    expect((await xmppSend(jid('erin'), unique('to erin'), { policy: perContact })).exitCode).toBe(0);

    rmSync(join(work, 'state'), { recursive: true, force: true });
    const perMinute = writePolicy({ allowed_contacts: [`*@${server.domain}`], receipt_timeout_ms: 200 }, {
      rate_limit: { max_messages_per_minute: 2, max_messages_per_hour: 100, max_messages_per_destination_per_hour: 100, cooldown_after_limit: 600 },
    });
    expect((await xmppSend(jid('bob'), unique('a'), { policy: perMinute })).exitCode).toBe(0);
    expect((await xmppSend(jid('erin'), unique('b'), { policy: perMinute })).exitCode).toBe(0);
    const limited = await xmppSend(jid('bob'), unique('c'), { policy: perMinute });
    expect(out(limited).delivery.error).toMatch(/^RATE_LIMITED: rate_limit.max_messages_per_minute/);
    const cooling = await xmppSend(jid('erin'), unique('d'), { policy: perMinute });
    expect(cooling.exitCode).toBe(2);
    expect(out(cooling).delivery.error).toMatch(/^COOLDOWN_ACTIVE/);
  });

  it('blocks an oversized body and a body carrying a secret before connecting', async () => {
    const mark = (await server.log()).length;
    const policy = writePolicy({ allowed_contacts: [jid('bob')], max_body_bytes: 64 });
    const big = await xmppSend(jid('bob'), 'x'.repeat(65), { policy });
    expect(big.exitCode).toBe(2);
    expect(codes(big)).toContain('PAYLOAD_TOO_LARGE');

    const secret = await xmppSend(jid('bob'), 'key AKIAIOSFODNN7EXAMPLF ok', { policy: writePolicy({ allowed_contacts: [jid('bob')] }) });
    expect(secret.exitCode).toBe(2);
    expect(codes(secret)).toContain('SECRET_IN_PAYLOAD');
    expect(secret.stdout).not.toContain('AKIAIOSFODNN7EXAMPLF');
    expect(await logSince(mark)).not.toMatch(/Authenticated as agent/);
  });

  it('answers --help and refuses bad usage', async () => {
    const help = await runNode(XMPP_SEND, ['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/--to JID/);
    expect((await runNode(XMPP_SEND, ['--to', jid('bob')])).exitCode).toBe(64);
    expect((await runNode(XMPP_SEND, ['--to', jid('bob'), '--body', 'x', '--type', 'headline'])).exitCode).toBe(64);
  });
});
