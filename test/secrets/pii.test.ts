import { describe, expect, it } from 'vitest';
import { piiModes, scanPayload, type PiiPolicy } from '../../src/secrets/scan.ts';
import { Fakes, grouped } from '../fixtures/secrets/fakes.ts';

const f = new Fakes(11);
const visa = f.card('4', 16);
const amex = f.card('37', 15);
const mc = f.card('55', 16);
const iban = f.ibanDE();
const ssn = f.ssn();

function kinds(text: string, pii: PiiPolicy = 'block', ignoreAddresses: string[] = []): string[] {
  return scanPayload(text, { secrets: 'off', pii, ignoreAddresses })
    .map((finding) => finding.piiKind!)
    .sort();
}

describe('payment cards', () => {
  it.each([
    [`card ${visa}`],
    [`card ${grouped(visa)}`],
    [`card ${grouped(mc, 4, '-')}`],
    [`amex ${amex.slice(0, 4)} ${amex.slice(4, 10)} ${amex.slice(10)}`],
    [`{"pan":"${visa}"}`],
    [`order 12 ${grouped(visa)} exp 09/27`],
  ])('finds a card in %j', (text) => {
    expect(kinds(text)).toEqual(['card']);
  });

  it.each([
    ['4111 1111 1111 1112'], // Luhn
    ['1716912345123 ms'], // a timestamp
    [`sha ${'375239251015229'}de8a59a40d5cd82`], // digits at the start of a hex string
    ['uuid 26439928-3367-4002-9012-345678901234'],
    ['+1 415 555 0134 5678'],
    ['9999 9999 9999 9995'], // Luhn-valid, no issuer
  ])('ignores %j', (text) => {
    expect(kinds(text)).toEqual([]);
  });
});

describe('SSNs and IBANs', () => {
  it.each([[`SSN ${ssn}`], [`ssn: ${ssn.replace(/-/g, '')}`], [`social security number ${ssn.replace(/-/g, ' ')}`]])('finds an SSN in %j', (text) => {
    expect(kinds(text)).toEqual(['ssn']);
  });

  it.each([['date 2024-05-17'], ['ticket 900-12-3456'], ['666-12-3456'], ['phone 555-123-4567'], ['000-12-3456']])('ignores %j', (text) => {
    expect(kinds(text)).toEqual([]);
  });

  it.each([[iban], [grouped(iban)], [`IBAN: ${f.ibanGB()}`], [`"iban":"${f.ibanFR()}"`]])('finds an IBAN in %j', (text) => {
    expect(kinds(text)).toEqual(['iban']);
  });

  it.each([['DE89 3704 0044 0532 0130 01'], ['RF18 5390 0754 7034'], ['XDE89370400440532013000']])('ignores %j', (text) => {
    expect(kinds(text)).toEqual([]);
  });
});

describe('e-mail and phone (optional)', () => {
  const text = 'reach dana.lee@corp.io or +44 20 7946 0958; docs at help@example.com';

  it('are off unless a policy turns them on', () => {
    expect(kinds(text)).toEqual([]);
    expect(kinds(text, { email: 'block', phone: 'warn' })).toEqual(['email', 'phone']);
  });

  it("ignores the message's own addresses and documentation domains", () => {
    expect(kinds(text, { email: 'block' }, ['Dana.Lee@corp.io'])).toEqual([]);
    expect(kinds(text, { phone: 'block' }, ['+442079460958'])).toEqual([]);
    expect(kinds('write to help@example.com or a@b.test', { email: 'block' })).toEqual([]);
  });
});

describe('policy per kind', () => {
  it('a single mode covers card, ssn and iban; e-mail and phone stay off', () => {
    expect(piiModes('warn')).toEqual({ card: 'warn', ssn: 'warn', iban: 'warn', email: 'off', phone: 'off' });
    expect(piiModes(undefined)).toEqual({ card: 'block', ssn: 'block', iban: 'block', email: 'off', phone: 'off' });
    expect(piiModes({ iban: 'warn' })).toEqual({ card: 'block', ssn: 'block', iban: 'warn', email: 'off', phone: 'off' });
  });

  it('actions follow the kind’s mode, and off kinds are not reported', () => {
    const findings = scanPayload(`${grouped(visa)} and ${iban} and ${ssn}`, { secrets: 'off', pii: { card: 'warn', iban: 'block', ssn: 'off' } });
    expect(findings.map((x) => [x.piiKind, x.action]).sort()).toEqual([
      ['card', 'warn'],
      ['iban', 'block'],
    ]);
  });
});
