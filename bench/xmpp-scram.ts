/**
 * SCRAM Hi() cost at Prosody's default iteration count (10 000): @xmpp/sasl-scram-sha-1's
 * WebCrypto loop (one awaited HMAC per iteration) against node:crypto's PBKDF2, which computes the
 * same value (RFC 5802 2.2) natively. Run: npx tsx bench/xmpp-scram.ts [iterations] [rounds]
 */
import { pbkdf2Sync } from 'node:crypto';
import { Hi } from 'sasl-scram-sha-1/lib/bitops.js';
import { scramClient } from '../src/transports/xmpp-scram.ts';

const iterations = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 7);
const salt = Buffer.from('QSXCR+Q6sek8bf92', 'base64');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const webcrypto: number[] = [];
const native: number[] = [];
const client: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  let started = performance.now();
  const slow = Buffer.from(await Hi('pencil', new Uint8Array(salt), iterations));
  webcrypto.push(performance.now() - started);
  started = performance.now();
  const fast = pbkdf2Sync('pencil', salt, iterations, 20, 'sha1');
  native.push(performance.now() - started);
  if (!slow.equals(fast)) throw new Error('Hi() and PBKDF2 disagree');
  const scram = scramClient('sha1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
  started = performance.now();
  await scram.final(`r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=${salt.toString('base64')},i=${iterations}`);
  client.push(performance.now() - started);
}
const row = (name: string, values: number[]) => `${name.padEnd(48)} median ${median(values).toFixed(1).padStart(8)} ms   (${values.map((v) => v.toFixed(1)).join(', ')})`;
console.log(`SCRAM-SHA-1 Hi(), ${iterations} iterations, ${rounds} rounds (identical output checked)`);
console.log(row('@xmpp/sasl-scram-sha-1 (WebCrypto, per-iteration)', webcrypto));
console.log(row('node:crypto pbkdf2Sync', native));
console.log(row('sendgate scramClient().final() (async pbkdf2)', client));
