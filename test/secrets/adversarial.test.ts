/**
 * No input up to 1 MB may take the scanner longer than 0.2 s: every quantifier is bounded, rules
 * start at boundaries, windows merge, and normalisation is capped. These inputs are built to make a
 * careless regex backtrack (long runs of near-matches) or a careless decoder blow up.
 *
 * Timing in a unit test: the measure is the CPU time this process spends in the scan (not wall
 * time, which other test files and other processes on a shared machine inflate), best of three
 * runs so a GC pause does not decide it. Typical CPU times are 5-90 ms on a laptop core, so the
 * 200 ms limit leaves a wide margin for a slower machine while still catching anything
 * super-linear (which would take seconds or minutes on these inputs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { scanPayload } from '../../src/secrets/scan.ts';
import { Fakes } from '../fixtures/secrets/fakes.ts';

const MB = 1024 * 1024;
const LIMIT_MS = 200;
const f = new Fakes(1234);

function fill(unit: string, size = MB): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function nestedJson(size: number): string {
  let text = JSON.stringify({ password: 'Hunter2!x' });
  while (text.length < size / 2) text = JSON.stringify({ a: text, b: text.slice(0, 100) });
  return text.slice(0, size);
}

const INPUTS: Array<[string, () => string]> = [
  ['base64 run, one line', () => f.bytes((MB * 3) / 4).toString('base64')],
  ['one character', () => fill('A')],
  ['digits', () => fill('4111')],
  ['digits and spaces', () => fill('4111 ')],
  ['digits and dashes', () => fill('123-45-')],
  ['"a=" x 100k', () => 'a='.repeat(100_000)],
  ['"a=" to 1 MB', () => fill('a=')],
  ['GitHub near-matches', () => fill(`ghp_${f.str('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 35)} `)],
  ['GitHub prefix run', () => fill('ghp_')],
  ['AWS prefix run', () => fill('AKIA')],
  ['JWT prefix run', () => fill('eyJ')],
  ['JWT dots', () => fill('eyJhbGciOiJIUzI1NiJ9.')],
  ['PEM headers', () => fill('-----BEGIN RSA PRIVATE KEY-----\n')],
  ['PEM header then base64', () => `-----BEGIN RSA PRIVATE KEY-----\n${f.bytes((MB * 3) / 4).toString('base64')}`.slice(0, MB)],
  ['PuTTY header run', () => fill('PuTTY-User-Key-File-3: ssh-rsa\n')],
  ['PuTTY private lines run', () => fill('Private-Lines: 1\n')],
  ['varied auth values', () => Array.from({ length: 30_000 }, () => `"auth":"${f.b64(12)}",`).join('').slice(0, MB)],
  ['varied card-like groups', () => Array.from({ length: 50_000 }, () => `${f.str('0123456789', 4)} `).join('').slice(0, MB)],
  ['varied assignments', () => Array.from({ length: 40_000 }, () => `api_key: ${f.str('abcdefghijklmnopqrstuvwxyz0123456789', 16)} `).join('').slice(0, MB)],
  ['password= run', () => fill('password=')],
  ['password: run', () => fill('"password": ')],
  ['prose run', () => fill('the password is ')],
  ['prose qualifiers', () => fill('password for the for the for ')],
  ['key: run', () => fill('api_key: ')],
  ['secret words', () => fill('secret token key credential auth ')],
  ['URL userinfo run', () => fill('https://a:b')],
  ['URL scheme run', () => fill('://a:')],
  ['Bearer run', () => fill('Bearer ')],
  ['Basic run', () => fill('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== ')],
  ['Authorization run', () => fill('Authorization: token ')],
  ['XML elements', () => fill('<password>')],
  ['inline tags', () => fill('<b>a</b>')],
  ['entities', () => fill('&amp;')],
  ['numeric entities', () => fill('&#65;')],
  ['double-encoded entities', () => fill('&amp;#65;')],
  ['percent run', () => fill('%25')],
  ['escaped newlines', () => fill('ab\\n')],
  ['line continuations', () => fill('ab\\\n')],
  ['quoted-printable', () => `Content-Transfer-Encoding: quoted-printable\n\n${fill('=3D=\n', MB - 50)}`],
  ['nested JSON', () => nestedJson(MB)],
  ['backslash run', () => fill('\\')],
  ['Kubernetes Secret', () => `kind: Secret\ndata:\n${fill(`  k: ${f.b64(24)}\n`, MB - 30)}`],
  ['auth values', () => fill(`"auth": "${Buffer.from('u:p4ssw0rd!').toString('base64')}", `)],
  ['MIME base64', () => `Content-Transfer-Encoding: base64\n\n${fill(`${f.b64(57)}\n`, MB - 40)}`],
  ['e-mail-like run', () => fill('a@a.')],
  ['e-mail addresses', () => fill('dana.lee@corp.io ')],
  ['phone-like run', () => fill('+1 415 ')],
  ['IBAN-like run', () => fill('DE89 3704 ')],
  ['Slack prefix run', () => fill('xoxb-1')],
  ['SAS run', () => fill('&sig=')],
  ['Discord-like run', () => fill('MTAxMjM0NTY3ODkwMTIzNDU2.')],
  ['Telegram-like run', () => fill('123456789:AA')],
  ['zero-width run', () => fill('a\u200b')],
  ['full-width run', () => fill('ｐａｓｓｗｏｒｄ＝')],
  ['CJK prose run', () => fill('密码是')],
  ['hex run', () => f.hex(MB)],
  ['mixed near-misses', () => fill('sk-proj- glpat- hvs. dapi AIza xoxp- SG. npm_ hf_ ')],
];

const timings: Array<[string, number]> = [];

describe('adversarial inputs (1 MB) finish under 0.2 s each', () => {
  scanPayload('warm up the rules and the automaton: ghp_ password=x');

  afterAll(() => {
    const slowest = [...timings].sort((a, b) => b[1] - a[1]).slice(0, 3);
    console.log(`[secrets adversarial] ${timings.length} inputs, slowest (CPU ms): ${slowest.map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ')}`);
  });

  it.each(INPUTS)('%s', (_name, build) => {
    const text = build();
    expect(text.length).toBeLessThanOrEqual(MB);
    const options = { pii: { card: 'block', ssn: 'block', iban: 'block', email: 'block', phone: 'block' } as const };
    let best = Infinity;
    for (let run = 0; run < 3 && best >= LIMIT_MS / 4; run++) {
      const start = process.cpuUsage();
      scanPayload(text, options);
      const used = process.cpuUsage(start);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    timings.push([_name, best]);
    expect(best).toBeLessThan(LIMIT_MS);
  });
});
