import { describe, expect, it } from 'vitest';
import { policySchema } from '../../src/config/schema.ts';
import { connectionResource, invalidXmlCharIndex, withAttributionSuffix } from '../../src/message/attribution.ts';
import { parseXmppSendArgs } from '../../src/cli/xmpp-send-args.ts';

const policy = (attribution: Record<string, unknown>) => policySchema.parse({ version: 1, xmpp: { attribution } });

describe('attribution', () => {
  it('appends the suffix once, on its own line unless it brings its own whitespace', () => {
    expect(withAttributionSuffix('hi', policy({ suffix: '-- bot' }))).toBe('hi\n-- bot');
    expect(withAttributionSuffix('hi\n-- bot', policy({ suffix: '-- bot' }))).toBe('hi\n-- bot');
    expect(withAttributionSuffix('hi', policy({ suffix: ' (via assistant)' }))).toBe('hi (via assistant)');
    expect(withAttributionSuffix('hi', policy({}))).toBe('hi');
  });

  it('binds the configured resource plus a short random tag, so parallel sends never collide', () => {
    const a = connectionResource(policy({ resource: 'assistant' }));
    const b = connectionResource(policy({ resource: 'assistant' }));
    expect(a).toMatch(/^assistant\.[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
    expect(connectionResource(policy({}))).toMatch(/^sendgate\.[0-9a-f]{6}$/);
  });

  it('finds characters XML cannot carry', () => {
    expect(invalidXmlCharIndex('tab\tnewline\nreturn\r emoji 👍 ünïcödé')).toBe(-1);
    expect(invalidXmlCharIndex('bell\u0007')).toBe(4);
    expect(invalidXmlCharIndex('x\ud800y')).toBe(1);
    expect(invalidXmlCharIndex('\udc00')).toBe(0);
    expect(invalidXmlCharIndex('\uffff')).toBe(0);
  });
});

describe('xmpp-send arguments', () => {
  it('parses the documented flags', () => {
    expect(parseXmppSendArgs(['--to', 'bob@example.com', '--body', 'hi', '--type', 'groupchat', '--dry-run', '--format', 'json'])).toMatchObject({
      to: 'bob@example.com', body: 'hi', type: 'groupchat', dryRun: true, format: 'json',
    });
    expect(parseXmppSendArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--body', 'hi'], /--to is required/],
    [['--to', 'bob@example.com'], /--body .* is required/],
    [['--to', 'bob@example.com', '--body', 'a', '--body-file', 'f'], /not both/],
    [['--to', 'bob@example.com', '--body', '  '], /empty/],
    [['--to', 'bob@example.com', '--body', 'a\u0000b'], /U\+0000/],
    [['--to', 'bob@example.com', '--body', 'a', '--type', 'headline'], /chat or groupchat/],
    [['--to', 'bob@example.com', '--body', 'a', '--password', 'x'], /Unknown option '--password'/],
    [['--to', 'bob@example.com', '--body', 'a', '--approval-token', 'x'], /malformed/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseXmppSendArgs(argv)).toThrow(message);
  });
});
