/**
 * The PreToolUse decision for xmpp-send.mjs, in process: the stateless guards and the contact
 * rules (no connection from the hook) -> deny with the code, or "ask" with a token of the kind the
 * sender checks for; and that token is proved against the real pipeline (executeSend with the real
 * contact guard, a fake XMPP transport and a connector that refuses to connect).
 */
import xml from '@xmpp/xml';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXmppSendArgs } from '../../src/cli/xmpp-send-args.ts';
import { policySchema, type Policy, type PolicyInput } from '../../src/config/schema.ts';
import { contactKey, rememberedFrom, xmppContactGuard } from '../../src/guards/xmpp-contacts.ts';
import { decidePreToolUse, type PreToolUseContext } from '../../src/hooks/pre-tool-use.ts';
import type { HookInput } from '../../src/hooks/types.ts';
import { withAttributionSuffix } from '../../src/message/attribution.ts';
import { sendDigest } from '../../src/message/payload.ts';
import type { XmppMessage } from '../../src/message/types.ts';
import { executeSend, type SendEnvironment } from '../../src/pipeline/send.ts';
import { verifyToken } from '../../src/state/approvals.ts';
import { StateStore } from '../../src/state/store.ts';
import type { RosterItem, XmppConnector } from '../../src/transports/xmpp.ts';
import { fakeLookup, FAKE_PRIVATE_KEY } from '../egress/support.ts';

const XMPP_SEND = '/opt/skills/xmpp_send/scripts/xmpp-send.mjs';
const SEND = '/opt/skills/send/scripts/send.mjs';
const SUFFIX = '-- sent by the assistant';

function setup(xmpp: Record<string, unknown> = {}, extra: Partial<PolicyInput> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'sendgate-xmpp-hook-'));
  const home = join(root, 'home');
  const project = join(root, 'project');
  const state = join(root, 'state');
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  const policy = policySchema.parse({
    version: 1,
    xmpp: { jid: 'agent@example.com', allowed_contacts: ['bob@example.com', 'ops@conference.example.com'], attribution: { suffix: SUFFIX }, ...xmpp },
    ...extra,
  });
  const ctx: PreToolUseContext = { env: { HOME: home, SENDGATE_HOME: state, CLAUDE_PROJECT_DIR: project }, lookup: fakeLookup, loadPolicy: () => policy, audit: false };
  const input = (command: string): HookInput => ({
    session_id: 'sess', transcript_path: null, cwd: project, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command, description: 'test' }, tool_use_id: 'toolu_1',
  });
  const bash = (command: string) => decidePreToolUse(input(command), ctx);
  const store = new StateStore(state);
  return { root, project, state, policy, bash, store };
}

/** Contacts the user confirmed before ("confirmed") or said "always" for, as approve.mjs and the sender record them. */
async function remember(store: StateStore, kind: 'always' | 'confirmed', bare: string) {
  await store.transaction(['contacts'], (state) => {
    state.contacts[kind][contactKey(bare)] = new Date().toISOString();
  });
}

/**
 * The sender, in process, wired as scripts/xmpp-send.ts and withXmpp wire it, except that the
 * transport is fake and the connector refuses to connect (the tests never touch the network).
 */
function sender(store: StateStore, policy: Policy, state: string, roster?: RosterItem[]) {
  const delivered: Array<{ to: string; message: XmppMessage }> = [];
  const connections: string[] = [];
  // The roster query answered in memory (as in test/guards/xmpp-contacts.test.ts), when a test gives one.
  const session = {
    async iq() {
      return xml('iq', { type: 'result' }, xml('query', { xmlns: 'jabber:iq:roster' }, ...(roster ?? []).map((entry) => xml('item', { jid: entry.jid, subscription: entry.subscription }))));
    },
  };
  const connector = {
    async session() {
      connections.push('session');
      if (roster) return session;
      throw new Error('no XMPP connection in this test');
    },
    deferContactCheck() {
      connections.push('deferred');
    },
    preconnect() {
      connections.push('preconnect');
    },
  } as unknown as XmppConnector;
  const environment: SendEnvironment = {
    policy, store, auditPath: join(state, 'audit', 'sendgate.jsonl'),
    deps: { lookup: fakeLookup, overrides: new Map(), now: () => new Date() },
    transports: {
      xmpp: async (attempt) => {
        delivered.push({ to: attempt.target.display, message: attempt.message as XmppMessage });
        return { status: 'sent', responseCode: null, confirmation: 'acknowledged by the server', evidence: [] };
      },
    },
    extraGuards: [xmppContactGuard({ connector, remembered: () => rememberedFrom(store.read('contacts')), env: {}, preconnect: false })],
    triggeredBy: 'test', approveCommand: (id) => `approve ${id}`, env: {}, wait: async () => {},
  };
  /** argv as the rewritten command passes it to xmpp-send.mjs; the message built as scripts/xmpp-send.ts builds it. */
  const send = async (argv: string[]) => {
    const input = parseXmppSendArgs(argv);
    if (input === 'help') throw new Error('unexpected help');
    const body = withAttributionSuffix(input.body, policy);
    const destination = /^xmpp:/i.test(input.to) ? input.to : `xmpp:${input.to}`;
    return executeSend({ skill: 'xmpp_send', protocol: 'xmpp', destination, message: { protocol: 'xmpp', body, type: input.type }, approvalToken: input.approvalToken, constraints: {}, dryRun: input.dryRun }, environment);
  };
  return { send, delivered, connections };
}

const tokenOf = (command: string) => /--approval-token (\S+)/.exec(command)?.[1];

describe('PreToolUse: xmpp-send.mjs', () => {
  it('asks for an allowed, known contact, with a token the real sender accepts once', async () => {
    const t = setup();
    await remember(t.store, 'confirmed', 'bob@example.com');
    const command = `node "${XMPP_SEND}" --to bob@example.com --body "build 42 passed"`;
    const verdict = await t.bash(command);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toContain('XMPP to xmpp:bob@example.com');
    expect(verdict?.reason).toContain('build 42 passed');
    expect(verdict?.reason).toContain(SUFFIX); // the human sees the text that is sent
    expect(verdict?.reason).toMatch(/approval\.required/);
    expect(verdict?.reason).not.toMatch(/first message/);
    const rewritten = String(verdict?.updatedInput?.command);
    expect(rewritten).toMatch(/xmpp-send\.mjs" --approval-token sg1\.ap_[a-z0-9]+\.\d+\.[A-Za-z0-9_-]+ --to bob@example\.com/);
    expect(verdict?.updatedInput?.description).toBe('test');
    const token = tokenOf(rewritten)!;
    expect(verdict?.reason).not.toContain(token);

    // The pending request is the kind the sender opens for this message: an approval.
    const pending = Object.values(t.store.read('approvals').pending);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ kind: 'approval', skill: 'xmpp_send', protocol: 'xmpp', destination: 'xmpp:bob@example.com' });

    // Bound to the message as the sender builds it (attribution included), not to the bare body.
    const key = await t.store.hmacKey();
    const built: XmppMessage = { protocol: 'xmpp', body: `build 42 passed\n${SUFFIX}`, type: 'chat' };
    expect(verifyToken(key, token, sendDigest('xmpp', 'xmpp:bob@example.com', built), new Date()).ok).toBe(true);
    expect(verifyToken(key, token, sendDigest('xmpp', 'xmpp:bob@example.com', { ...built, body: 'build 42 passed' }), new Date()).ok).toBe(false);

    // The real pipeline sends with it, exactly once, and never connects from the guard.
    const s = sender(t.store, t.policy, t.state);
    const first = await s.send(['--approval-token', token, '--to', 'bob@example.com', '--body', 'build 42 passed']);
    expect(first.output.delivery.status).toBe('sent');
    expect(first.output.approval.status).toBe('consumed');
    expect(s.delivered).toEqual([{ to: 'xmpp:bob@example.com', message: built }]);
    const replay = await s.send(['--approval-token', token, '--to', 'bob@example.com', '--body', 'build 42 passed']);
    expect(replay.output.delivery.status).toBe('sent'); // already delivered: reported, not sent again
    expect(s.delivered).toHaveLength(1);
    expect(s.connections).toEqual([]);
    // The token sends nothing else: another message with it needs its own approval.
    const another = await s.send(['--approval-token', token, '--to', 'bob@example.com', '--body', 'build 43 passed']);
    expect(another.output.delivery.status).toBe('approval_required');
    expect(s.delivered).toHaveLength(1);
  });

  it('asks a first contact as a first contact, with a first_contact token the sender accepts', async () => {
    const t = setup();
    const verdict = await t.bash(`node ${XMPP_SEND} --to Bob@Example.com --body "hello from the build bot"`);
    expect(verdict?.decision).toBe('ask');
    const reason = verdict!.reason;
    const pending = Object.values(t.store.read('approvals').pending);
    expect(pending).toHaveLength(1);
    const request = pending[0]!;
    expect(request).toMatchObject({ kind: 'first_contact', destination: 'xmpp:bob@example.com' });
    expect(request.id).toMatch(/^fc_/);
    expect(reason).toContain(`first message to bob@example.com: Yes sends this once; to always allow this contact, run node "/opt/skills/xmpp_send/scripts/approve.mjs" approve ${request.id} --always in a terminal`);
    const token = tokenOf(String(verdict?.updatedInput?.command))!;
    expect(token).toMatch(new RegExp(`^sg1\\.${request.id}\\.`));
    expect(reason).not.toContain(token);

    // Without the token the sender asks for a first-contact confirmation of the same message
    // (the same pending request: same digest, same kind)...
    const s = sender(t.store, t.policy, t.state);
    const unconfirmed = await s.send(['--to', 'Bob@Example.com', '--body', 'hello from the build bot']);
    expect(unconfirmed.output.delivery.status).toBe('confirmation_required');
    expect(unconfirmed.output.approval.request_id).toBe(request.id);
    // ...and with it, sends.
    const confirmed = await s.send(['--approval-token', token, '--to', 'Bob@Example.com', '--body', 'hello from the build bot']);
    expect(confirmed.output.delivery.status).toBe('sent');
    expect(s.delivered.map((d) => d.message.body)).toEqual([`hello from the build bot\n${SUFFIX}`]);
  });

  it('says when the roster decides, without connecting', async () => {
    const t = setup({ allowed_contacts: [], allow_roster_contacts: true });
    const verdict = await t.bash(`node ${XMPP_SEND} --to carol@example.com --body "standup in 5"`);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toMatch(/first message to carol@example\.com/);
    expect(verdict?.reason).toMatch(/sender checks the account's roster \(mutual "both" subscriptions only\) before anything is sent/);
    expect(Object.values(t.store.read('approvals').pending)[0]).toMatchObject({ kind: 'first_contact' });
    const token = tokenOf(String(verdict?.updatedInput?.command))!;
    const argv = ['--approval-token', token, '--to', 'carol@example.com', '--body', 'standup in 5'];
    const item = (subscription: RosterItem['subscription']): RosterItem => ({ jid: 'carol@example.com', subscription, ask: null, name: null, groups: [] });

    // The sender enforces the roster the hook could not see: a one-way subscription is refused...
    const oneWay = sender(t.store, t.policy, t.state, [item('to')]);
    const refused = await oneWay.send(argv);
    expect(refused.output.delivery.status).toBe('blocked');
    expect(refused.output.constraints_applied.map((c) => c.code)).toContain('CONTACT_NOT_ALLOWED');
    expect(oneWay.delivered).toEqual([]);
    // ...and a mutual one sends with the hook's token.
    const mutual = sender(t.store, t.policy, t.state, [item('both')]);
    const sent = await mutual.send(argv);
    expect(sent.output.delivery.status).toBe('sent');
    expect(mutual.delivered).toHaveLength(1);
  });

  it('lets an "always" contact through (no per-message approval), as the sender does', async () => {
    const t = setup();
    await remember(t.store, 'always', 'bob@example.com');
    const command = `node ${XMPP_SEND} --to bob@example.com --body "deploy finished"`;
    expect(await t.bash(command)).toBeNull();
    const s = sender(t.store, t.policy, t.state);
    const result = await s.send(['--to', 'bob@example.com', '--body', 'deploy finished']);
    expect(result.output.delivery.status).toBe('sent');
    expect(result.output.approval.required).toBe(false);
  });

  it('with no contact list, allows anyone but asks a first contact', async () => {
    const t = setup({ allowed_contacts: [] });
    const verdict = await t.bash(`node ${XMPP_SEND} --to stranger@example.com --body hi`);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toMatch(/first message to stranger@example\.com/);
  });

  it('asks for a room message, and binds the groupchat type', async () => {
    const t = setup();
    await remember(t.store, 'confirmed', 'ops@conference.example.com');
    const verdict = await t.bash(`node ${XMPP_SEND} --to ops@conference.example.com --type groupchat --body "rollout at 14:00"`);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toContain('XMPP groupchat to xmpp:ops@conference.example.com');
    const token = tokenOf(String(verdict?.updatedInput?.command))!;
    const key = await t.store.hmacKey();
    const message: XmppMessage = { protocol: 'xmpp', body: `rollout at 14:00\n${SUFFIX}`, type: 'groupchat' };
    expect(verifyToken(key, token, sendDigest('xmpp', 'xmpp:ops@conference.example.com', message), new Date()).ok).toBe(true);
    expect(verifyToken(key, token, sendDigest('xmpp', 'xmpp:ops@conference.example.com', { ...message, type: 'chat' }), new Date()).ok).toBe(false);
  });

  it('binds a here-document body exactly as the sender reads it (even one that starts with "-")', async () => {
    const t = setup();
    await remember(t.store, 'confirmed', 'bob@example.com');
    const command = `node ${XMPP_SEND} --to bob@example.com --body-file - <<'EOF'\n- item one\n- item two\nEOF`;
    const verdict = await t.bash(command);
    expect(verdict?.decision).toBe('ask');
    const rewritten = String(verdict?.updatedInput?.command);
    expect(rewritten).toContain("<<'EOF'\n- item one\n- item two\nEOF");
    const token = tokenOf(rewritten)!;
    const key = await t.store.hmacKey();
    const message: XmppMessage = { protocol: 'xmpp', body: `- item one\n- item two\n\n${SUFFIX}`, type: 'chat' };
    expect(verifyToken(key, token, sendDigest('xmpp', 'xmpp:bob@example.com', message), new Date()).ok).toBe(true);
  });

  it('reads --body-file relative to the command\'s directory', async () => {
    const t = setup();
    await remember(t.store, 'confirmed', 'bob@example.com');
    writeFileSync(join(t.project, 'note.txt'), 'release notes');
    const verdict = await t.bash(`node ${XMPP_SEND} --to bob@example.com --body-file note.txt`);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toContain('release notes');
  });

  it.each([
    [`node ${XMPP_SEND} --to mallory@example.com --body hi`, 'CONTACT_NOT_ALLOWED'],
    [`node ${XMPP_SEND} --to dev@conference.example.com --type groupchat --body hi`, 'CONTACT_NOT_ALLOWED'],
    [`node ${XMPP_SEND} --to bob@example.com --body ${'x'.repeat(9990)}`, 'PAYLOAD_TOO_LARGE'],
    [`node ${XMPP_SEND} --to "not a jid" --body hi`, 'DESTINATION_INVALID'],
    [`node ${XMPP_SEND} --to bob@example.com --body "$MESSAGE"`, 'literally'],
    [`node ${XMPP_SEND} --to bob@example.com --body-file -`, 'here-document'],
    [`node ${XMPP_SEND} --to bob@example.com --body-file - <<< "$MESSAGE"`, 'literally'],
    [`node ${XMPP_SEND} --to bob@example.com --body hi && echo done`, 'SEND_NOT_ALONE'],
  ])('denies %s', async (command, code) => {
    const t = setup();
    const verdict = await t.bash(command);
    expect(verdict?.decision).toBe('deny');
    expect(verdict?.reason).toContain(code);
    expect(verdict?.updatedInput).toBeUndefined();
  });

  it('denies a contact outside destinations.allow / on destinations.deny', async () => {
    const t = setup({}, { destinations: { deny: ['bob@example.com'] } as PolicyInput['destinations'] });
    const verdict = await t.bash(`node ${XMPP_SEND} --to bob@example.com --body hi`);
    expect(verdict?.decision).toBe('deny');
    expect(verdict?.reason).toMatch(/DESTINATION_/);
  });

  it('asks, rather than guesses, for a contact only the roster can admit', async () => {
    // The hook asks (the roster decides); the sender's guard then blocks a "to" subscription. Here
    // only the ask is checked: the guard's roster rules are tested in test/guards/xmpp-contacts.test.ts.
    const t = setup({ allowed_contacts: ['alice@example.com'], allow_roster_contacts: true });
    const verdict = await t.bash(`node ${XMPP_SEND} --to to@example.com --body hi`);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toMatch(/roster/);
  });

  it('denies a secret, and never echoes it', async () => {
    const t = setup();
    const key = FAKE_PRIVATE_KEY.split('\n').join('\\n');
    const verdict = await t.bash(`node ${XMPP_SEND} --to bob@example.com --body "here is the key ${key}"`);
    expect(verdict?.decision).toBe('deny');
    expect(verdict?.reason).toContain('SECRET_IN_PAYLOAD');
    const inner = FAKE_PRIVATE_KEY.split('\n')[2]!;
    expect(verdict?.reason).not.toContain(inner);
  });

  it('denies a token that is not for this message, without echoing it', async () => {
    const t = setup();
    await remember(t.store, 'confirmed', 'bob@example.com');
    const asked = await t.bash(`node ${XMPP_SEND} --to bob@example.com --body "message one"`);
    const token = tokenOf(String(asked?.updatedInput?.command))!;
    const verdict = await t.bash(`node ${XMPP_SEND} --approval-token ${token} --to bob@example.com --body "message two"`);
    expect(verdict?.decision).toBe('deny');
    expect(verdict?.reason).toContain('APPROVAL_INVALID');
    expect(verdict?.reason).not.toContain(token);
    // The rewritten command itself (the token the hook minted) passes on to the sender.
    expect(await t.bash(String(asked?.updatedInput?.command))).toBeNull();
  });

  it('passes dry runs, --help, bad usage and draft mode through untouched', async () => {
    const t = setup();
    expect(await t.bash(`node ${XMPP_SEND} --to bob@example.com --body hi --dry-run`)).toBeNull();
    expect(await t.bash(`node ${XMPP_SEND} --help`)).toBeNull();
    expect(await t.bash(`node ${XMPP_SEND} --to bob@example.com`)).toBeNull(); // exit 64 at the sender
    const draft = setup({}, { mode: 'draft' });
    expect(await draft.bash(`node ${XMPP_SEND} --to bob@example.com --body hi`)).toBeNull();
    // Draft mode still denies what the sender blocks.
    expect((await draft.bash(`node ${XMPP_SEND} --to mallory@example.com --body hi`))?.reason).toContain('CONTACT_NOT_ALLOWED');
    expect(Object.keys(t.store.read('approvals').pending)).toHaveLength(0);
  });

  it('passes through when neither approval nor confirmation is needed', async () => {
    const t = setup({ require_first_contact_confirmation: false }, { approval: { required: false } as PolicyInput['approval'] });
    expect(await t.bash(`node ${XMPP_SEND} --to bob@example.com --body hi`)).toBeNull();
    // approval.required false still asks a first contact.
    const first = setup({}, { approval: { required: false } as PolicyInput['approval'] });
    const verdict = await first.bash(`node ${XMPP_SEND} --to bob@example.com --body hi`);
    expect(verdict?.decision).toBe('ask');
    expect(verdict?.reason).toMatch(/first message to bob@example\.com/);
  });
});

describe('PreToolUse: send.mjs --protocol xmpp gets the same contact rules', () => {
  it('denies a contact on no list and asks a first contact as one', async () => {
    const t = setup();
    const denied = await t.bash(`node ${SEND} --destination xmpp:mallory@example.com --protocol xmpp --message hi`);
    expect(denied?.decision).toBe('deny');
    expect(denied?.reason).toContain('CONTACT_NOT_ALLOWED');
    const asked = await t.bash(`node ${SEND} --destination xmpp:bob@example.com --protocol xmpp --message hi`);
    expect(asked?.decision).toBe('ask');
    expect(asked?.reason).toContain('first message to bob@example.com');
    expect(asked?.reason).toContain('/opt/skills/send/scripts/approve.mjs');
    expect(Object.values(t.store.read('approvals').pending)[0]).toMatchObject({ kind: 'first_contact', skill: 'send' });
  });
});
