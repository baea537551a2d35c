import { describe, expect, it } from 'vitest';
import { chooseMechanism, plainMessage, saslprep, scramClient } from '../../src/transports/xmpp-scram.ts';

describe('SCRAM client', () => {
  it('matches the RFC 5802 SCRAM-SHA-1 example', async () => {
    const client = scramClient('sha1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
    expect(client.first()).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    const final = await client.final('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    expect(final).toBe('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    expect(() => client.verify('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')).not.toThrow();
    expect(client.timings.iterations).toBe(4096);
  });

  it('matches the RFC 7677 SCRAM-SHA-256 example', async () => {
    const client = scramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    const final = await client.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(final).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => client.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it('refuses a server that cannot prove it knows the password', async () => {
    const client = scramClient('sha1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
    await client.final('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    expect(() => client.verify('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(/signature is wrong/);
    expect(() => client.verify('e=invalid-proof')).toThrow(/invalid-proof/);
  });

  it('refuses malformed or hostile server-first messages', async () => {
    const nonce = 'abc';
    await expect(scramClient('sha1', 'u', 'p', nonce).final('r=xyz,s=QSXCR+Q6sek8bf92,i=4096')).rejects.toThrow(/nonce/);
    await expect(scramClient('sha1', 'u', 'p', nonce).final('r=abc,s=QSXCR+Q6sek8bf92,i=4096')).rejects.toThrow(/nonce/);
    await expect(scramClient('sha1', 'u', 'p', nonce).final('r=abcd,i=4096')).rejects.toThrow(/salt/);
    await expect(scramClient('sha1', 'u', 'p', nonce).final('r=abcd,s=QQ==,i=0')).rejects.toThrow(/iterations/);
    await expect(scramClient('sha1', 'u', 'p', nonce).final('r=abcd,s=QQ==,i=99999999')).rejects.toThrow(/iterations/);
    await expect(scramClient('sha1', 'u', 'p', nonce).final('m=ext,r=abcd,s=QQ==,i=4096')).rejects.toThrow(/extension/);
    expect(() => scramClient('sha1', 'u', 'p', nonce).verify('v=AAAA')).toThrow(/before the client proof/);
  });

  it('escapes the user name and prepares the password', () => {
    expect(scramClient('sha1', 'a,b=c', 'p', 'n').first()).toBe('n,,n=a=2Cb=3Dc,r=n');
    expect(saslprep('I\u00adX')).toBe('IX');
    expect(saslprep('a\u00a0b')).toBe('a b');
    expect(saslprep('\u2168')).toBe('IX');
    expect(() => saslprep('a\u0007b')).toThrow(/control/);
    expect(plainMessage('user', 'pass')).toBe('\u0000user\u0000pass');
  });

  it('prefers SCRAM-SHA-256, then SCRAM-SHA-1, then PLAIN', () => {
    expect(chooseMechanism(['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'])).toBe('SCRAM-SHA-256');
    expect(chooseMechanism(['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS'])).toBe('SCRAM-SHA-1');
    expect(chooseMechanism(['PLAIN'])).toBe('PLAIN');
    expect(chooseMechanism(['DIGEST-MD5', 'ANONYMOUS'])).toBeNull();
  });
});
