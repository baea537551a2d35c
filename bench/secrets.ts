/**
 * npm run bench:secrets
 *
 * Scans the same inputs with sendgate's payload scanner and with secretlint's recommended preset,
 * in the same run, and prints throughput side by side:
 *   - mixed: ~10 MB of chat lines, JSON webhooks, XMPP stanzas, e-mails and logs, with fake
 *     secrets sprinkled in (deterministic);
 *   - base64: a 1 MB single-line base64 blob (deterministic).
 * Targets: >= 20 MB/s on the mixed payload; no input up to 1 MB slower than 0.2 s.
 */
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { scanPayload } from '../src/secrets/scan.ts';
import { Fakes, asEmail, asWebhook, asXmpp, grouped } from '../test/fixtures/secrets/fakes.ts';

const MB = 1024 * 1024;

function mixedPayload(targetBytes: number): { text: string; planted: number } {
  const f = new Fakes(20240517);
  const words = 'the deploy finished and the api latency is back to normal we rotated keys yesterday please review the pull request before friday lunch at noon sounds good build passed on main retry the job tomorrow'.split(' ');
  const sentence = (n: number): string => Array.from({ length: n }, () => f.pick(words)).join(' ');
  const secrets: Array<() => string> = [
    () => `token for the bot: ${f.github('ghp')}`,
    () => `export AWS_ACCESS_KEY_ID=${f.awsKeyId()}`,
    () => `SLACK_BOT_TOKEN=${f.slackBot()}`,
    () => `the password is ${f.password()}`,
    () => `postgres://app:${f.password().replace(/[@/:?#]/g, 'x')}@db.internal:5432/app`,
    () => `Authorization: Bearer ${f.jwt()}`,
    () => `STRIPE_SECRET_KEY=${f.stripe('sk_live_')}`,
    () => `card ${grouped(f.card('4', 16))}`,
    () => f.pem('RSA PRIVATE KEY', 600),
    () => `OPENAI_API_KEY=${f.openaiProject()}`,
  ];
  const chunks: string[] = [];
  let size = 0;
  let planted = 0;
  let i = 0;
  while (size < targetBytes) {
    let chunk: string;
    switch (i++ % 6) {
      case 0:
        chunk = `[${new Date(1_716_000_000_000 + i * 1000).toISOString()}] INFO req=${f.uuid()} path=/v1/orders/${f.int(1, 99999)} status=200 dur=${f.int(1, 900)}ms sha=${f.hex(40)}`;
        break;
      case 1:
        chunk = asWebhook({ type: 'message', channel: `C${f.hex(8).toUpperCase()}`, user: `U${f.hex(8).toUpperCase()}`, text: sentence(f.int(5, 25)), ts: `${f.int(1_700_000_000, 1_800_000_000)}.000${f.int(100, 999)}`, thread: f.uuid() });
        break;
      case 2:
        chunk = asXmpp(sentence(f.int(4, 20)) + ' & more', 'room@conference.example.org', 'groupchat');
        break;
      case 3:
        chunk = asEmail('status', `${sentence(30)}\n\n${sentence(20)}\ndigest sha256:${f.hex(64)}`);
        break;
      case 4:
        chunk = `${sentence(12)} (commit ${f.hex(7)}, build ${f.int(1000, 9999)}, id ${f.uuid()})`;
        break;
      default:
        chunk = asWebhook({ event: 'push', after: f.hex(40), commits: [{ id: f.hex(40), message: sentence(6) }], data: f.b64(48) });
    }
    if (i % 50 === 0) {
      chunk += `\n${f.pick(secrets)()}`;
      planted++;
    }
    chunks.push(chunk);
    size += chunk.length + 1;
  }
  return { text: chunks.join('\n'), planted };
}

function base64Blob(bytes: number): string {
  const f = new Fakes(7);
  return f.bytes(Math.floor((bytes * 3) / 4)).toString('base64').slice(0, bytes);
}

async function secretlintCount(text: string): Promise<number> {
  const result = await lintSource({
    source: { content: text, filePath: '/virtual/input.txt', contentType: 'text' },
    options: { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] }, maskSecrets: true, noPhysicFilePath: true },
  });
  return result.messages.length;
}

async function time<T>(fn: () => T | Promise<T>, runs: number): Promise<{ seconds: number; result: T }> {
  let best = Infinity;
  let result!: T;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (seconds < best) best = seconds;
  }
  return { seconds: best, result };
}

async function main(): Promise<void> {
  const mixed = mixedPayload(10 * MB);
  const inputs = [
    { name: 'mixed 10 MB', text: mixed.text, note: `${mixed.planted} planted` },
    { name: 'base64 1 MB, one line', text: base64Blob(MB), note: '0 planted' },
  ];
  // Warm up both scanners (JIT, rule compilation) on a small input.
  scanPayload(mixed.text.slice(0, 200_000));
  await secretlintCount(mixed.text.slice(0, 200_000));

  const rows: string[][] = [['input', 'size', 'sendgate MB/s', 'secretlint MB/s', 'ratio', 'sendgate s', 'secretlint s', 'sendgate findings', 'secretlint findings']];
  for (const input of inputs) {
    const megabytes = Buffer.byteLength(input.text) / MB;
    const ours = await time(() => scanPayload(input.text, { maxFindings: 100_000 }), 3);
    const theirs = await time(() => secretlintCount(input.text), 1);
    rows.push([
      `${input.name} (${input.note})`,
      `${megabytes.toFixed(2)} MB`,
      (megabytes / ours.seconds).toFixed(1),
      (megabytes / theirs.seconds).toFixed(1),
      `${(theirs.seconds / ours.seconds).toFixed(1)}x`,
      ours.seconds.toFixed(3),
      theirs.seconds.toFixed(3),
      String(ours.result.length),
      String(theirs.result),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('\nTargets: mixed >= 20 MB/s; every input up to 1 MB under 0.2 s (see test/secrets/adversarial.test.ts).');
  console.log('Findings differ by design: sendgate also reports PII, prose and generic assignments; secretlint reports per rule match.');
}

await main();
