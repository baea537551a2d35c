import { describe, expect, it } from 'vitest';
import { policySchema, type PolicyInput } from '../../src/config/schema.ts';
import type { Protocol } from '../../src/contract.ts';
import { runGuards, STATELESS_GUARDS } from '../../src/guards/index.ts';
import { ownAddresses, secretsGuard } from '../../src/guards/secrets.ts';
import type { GuardContext } from '../../src/guards/types.ts';
import type { Message } from '../../src/message/types.ts';
import { parseDestination } from '../../src/target/parse.ts';
import { Fakes, grouped } from '../fixtures/secrets/fakes.ts';

const f = new Fakes(3);

function context(protocol: Protocol, destination: string, message: Message, policy: Partial<PolicyInput> = {}): GuardContext {
  const parsed = parseDestination(destination, protocol);
  if (!parsed.ok) throw new Error(parsed.reason);
  return {
    request: { skill: 'send', protocol, destination, message },
    policy: policySchema.parse({ version: 1, ...policy }),
    deps: { lookup: async () => ['93.184.216.34'], overrides: new Map(), now: () => new Date('2025-01-01T00:00:00Z') },
    target: parsed.target,
  };
}

const http = (body: string, headers: Record<string, string> = {}): Message => ({ protocol: 'http', method: 'POST', headers, body, contentType: 'application/json' });
const mail = (text: string, to: string[] = ['ops@corp.io']): Message => ({ protocol: 'smtp', to, cc: [], bcc: [], subject: 'hello', text, html: null });
const xmpp = (body: string): Message => ({ protocol: 'xmpp', body, type: 'chat' });

describe('secretsGuard', () => {
  const token = f.github('ghp');

  it('blocks a secret with SECRET_IN_PAYLOAD, naming the rule and a masked excerpt only', async () => {
    const result = await secretsGuard.check(context('http', 'https://hooks.example.org/in', http(JSON.stringify({ text: `use ${token}` }))));
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ code: 'SECRET_IN_PAYLOAD', guard: 'payload', result: 'block' });
    expect(result[0]!.reason).toContain('github-token ghp_…(40 chars)');
    expect(JSON.stringify(result)).not.toContain(token);
    expect(JSON.stringify(result)).not.toContain(token.slice(4, 20));
  });

  it('inspects HTTP headers as well as the body', async () => {
    const result = await secretsGuard.check(context('http', 'https://hooks.example.org/in', http('{}', { Authorization: `Bearer ${f.b64url(32)}` })));
    expect(result[0]).toMatchObject({ code: 'SECRET_IN_PAYLOAD', result: 'block' });
  });

  it('warns instead of blocking when payload.secrets is warn, and passes when off', async () => {
    const warned = await secretsGuard.check(context('xmpp', 'xmpp:dana@corp.io', xmpp(token), { payload: { secrets: 'warn' } }));
    expect(warned.map((c) => [c.code, c.result])).toEqual([['SECRET_IN_PAYLOAD', 'warn']]);
    const off = await secretsGuard.check(context('xmpp', 'xmpp:dana@corp.io', xmpp(token), { payload: { secrets: 'off', pii: 'off' } }));
    expect(off.map((c) => [c.code, c.result])).toEqual([['PAYLOAD_CLEAN', 'pass']]);
  });

  it('reports PII with PII_IN_PAYLOAD per kind', async () => {
    const card = grouped(f.card('4', 16));
    const blocked = await secretsGuard.check(context('smtp', 'mailto:ops@corp.io', mail(`card ${card}`)));
    expect(blocked.map((c) => [c.code, c.result])).toEqual([['PII_IN_PAYLOAD', 'block']]);
    const warned = await secretsGuard.check(context('smtp', 'mailto:ops@corp.io', mail(`card ${card}`), { payload: { pii: { card: 'warn' } } }));
    expect(warned.map((c) => [c.code, c.result])).toEqual([['PII_IN_PAYLOAD', 'warn']]);
  });

  it('puts a block first when there are both a block and a warning', async () => {
    const card = grouped(f.card('4', 16));
    const result = await secretsGuard.check(context('xmpp', 'xmpp:dana@corp.io', xmpp(`${token} ${card}`), { payload: { pii: { card: 'warn' } } }));
    expect(result.map((c) => [c.code, c.result])).toEqual([
      ['SECRET_IN_PAYLOAD', 'block'],
      ['PII_IN_PAYLOAD', 'warn'],
    ]);
  });

  it("ignores the message's own recipients and sender for e-mail detection", async () => {
    const policy = { payload: { pii: { email: 'block' as const } }, smtp: { from: 'Agent <agent@corp.io>' } };
    const own = await secretsGuard.check(context('smtp', 'mailto:ops@corp.io', mail('hi ops@corp.io, from agent@corp.io; cc lee@corp.io', ['ops@corp.io', 'lee@corp.io']), policy));
    expect(own.map((c) => c.code)).toEqual(['PAYLOAD_CLEAN']);
    const other = await secretsGuard.check(context('smtp', 'mailto:ops@corp.io', mail('forwarding the list: sam.b@othercorp.net'), policy));
    expect(other.map((c) => c.code)).toEqual(['PII_IN_PAYLOAD']);
    const room = await secretsGuard.check(context('xmpp', 'xmpp:room@conference.corp.io', xmpp('ping room@conference.corp.io'), policy));
    expect(room.map((c) => c.code)).toEqual(['PAYLOAD_CLEAN']);
  });

  it('ownAddresses collects recipients, the target and the configured senders, normalised', () => {
    const ctx = context('smtp', 'mailto:Ops@Corp.io', mail('x', ['Ops@Corp.io']), { smtp: { from: 'Agent <agent@corp.io>' }, xmpp: { jid: 'bot@corp.io/res' } });
    expect(ownAddresses(ctx.request, ctx.policy, ctx.target).sort()).toEqual(['agent@corp.io', 'bot@corp.io', 'ops@corp.io']);
  });

  it('passes a clean message with PAYLOAD_CLEAN', async () => {
    const result = await secretsGuard.check(context('http', 'https://hooks.example.org/in', http(JSON.stringify({ text: `merged ${f.hex(40)}` }))));
    expect(result).toEqual([{ code: 'PAYLOAD_CLEAN', guard: 'payload', result: 'pass', reason: 'no secrets or personal data found in the message' }]);
  });

  it('is wired into the stateless guard order right after the deny patterns', () => {
    const names = STATELESS_GUARDS.map((guard) => guard);
    expect(names.indexOf(secretsGuard)).toBe(STATELESS_GUARDS.findIndex((g) => g.name === 'payload' && g !== secretsGuard && g.check.toString().includes('deny_patterns')) + 1);
    expect(STATELESS_GUARDS.at(-1)!.name).toBe('network');
  });

  it('runGuards stops on the block before any network check', async () => {
    const ctx = context('http', 'https://hooks.example.org/in', http(JSON.stringify({ text: token })));
    let resolved = false;
    ctx.deps.lookup = async () => {
      resolved = true;
      return ['93.184.216.34'];
    };
    const run = await runGuards(ctx);
    expect(run.blocked).toBe(true);
    expect(run.constraints.at(-1)!.code).toBe('SECRET_IN_PAYLOAD');
    expect(resolved).toBe(false);
  });
});
