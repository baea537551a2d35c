/**
 * The labelled corpus (tuned on) and the held-out set (written before tuning, never edited to make
 * a case pass): recall and false-positive rate with the default policy (secrets: block, pii: block).
 * Regenerate the files with test/fixtures/secrets/build-corpus.ts and build-holdout.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeFindings, scanPayload, type Finding } from '../../src/secrets/scan.ts';
import type { Sample } from '../fixtures/secrets/build-holdout.ts';

function load(name: string): Sample[] {
  const text = readFileSync(new URL(`../fixtures/secrets/${name}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Sample);
}

interface Scored {
  sample: Sample;
  findings: Finding[];
}

function measure(samples: readonly Sample[]) {
  const scored: Scored[] = samples.map((sample) => ({ sample, findings: scanPayload(sample.text) }));
  const positives = scored.filter((s) => s.sample.label === 'secret');
  const negatives = scored.filter((s) => s.sample.label === 'benign');
  const missed = positives.filter((s) => s.findings.length === 0);
  const falsePositives = negatives.filter((s) => s.findings.length > 0);
  return {
    scored,
    positives: positives.length,
    negatives: negatives.length,
    missed,
    falsePositives,
    recall: (positives.length - missed.length) / positives.length,
    fpRate: falsePositives.length / negatives.length,
  };
}

function report(name: string, m: ReturnType<typeof measure>): void {
  console.log(
    `[secrets ${name}] recall ${(m.recall * 100).toFixed(1)}% (${m.positives - m.missed.length}/${m.positives}), ` +
      `false positives ${(m.fpRate * 100).toFixed(1)}% (${m.falsePositives.length}/${m.negatives})`,
  );
  for (const s of m.missed) console.log(`  missed ${s.sample.id} [${s.sample.kind}/${s.sample.category}]`);
  for (const s of m.falsePositives) console.log(`  false positive ${s.sample.id} [${s.sample.kind}/${s.sample.category}]: ${describeFindings(s.findings)}`);
}

/** True when any 8-character piece of the secret appears in the output. */
function leaks(output: string, secret: string): boolean {
  if (output.includes(secret)) return true;
  for (let i = 0; i + 8 <= secret.length; i++) if (output.includes(secret.slice(i, i + 8))) return true;
  return false;
}

const corpus = load('corpus.jsonl');
const holdout = load('holdout.jsonl');

describe('labelled corpus', () => {
  it('has at least 100 secret-bearing and 100 benign messages across chat, e-mail, JSON and XMPP', () => {
    expect(corpus.filter((s) => s.label === 'secret').length).toBeGreaterThanOrEqual(100);
    expect(corpus.filter((s) => s.label === 'benign').length).toBeGreaterThanOrEqual(100);
    for (const kind of ['chat', 'email', 'json', 'xmpp']) {
      expect(corpus.filter((s) => s.kind === kind && s.label === 'secret').length).toBeGreaterThan(10);
      expect(corpus.filter((s) => s.kind === kind && s.label === 'benign').length).toBeGreaterThan(10);
    }
    expect(new Set(corpus.map((s) => s.id)).size).toBe(corpus.length);
  });

  it('recall >= 98% and false positives <= 1%', () => {
    const m = measure(corpus);
    report('corpus', m);
    expect(m.recall).toBeGreaterThanOrEqual(0.98);
    expect(m.fpRate).toBeLessThanOrEqual(0.01);
  });
});

describe('held-out set (not tuned on)', () => {
  it('recall >= 95% and false positives <= 2%', () => {
    const m = measure(holdout);
    report('held-out', m);
    expect(m.positives).toBeGreaterThanOrEqual(40);
    expect(m.negatives).toBeGreaterThanOrEqual(40);
    expect(m.recall).toBeGreaterThanOrEqual(0.95);
    expect(m.fpRate).toBeLessThanOrEqual(0.02);
  });
});

describe('masking', () => {
  it('no finding and no reason carries the secret, or any 8-character piece of it', () => {
    for (const sample of [...corpus, ...holdout]) {
      if (!sample.secret) continue;
      const findings = scanPayload(sample.text);
      const output = JSON.stringify(findings) + describeFindings(findings, 100);
      expect(leaks(output, sample.secret), `${sample.id} leaks its secret`).toBe(false);
      for (const finding of findings) expect(finding.masked).toMatch(/^.{0,4}…\(\d+ chars\)$/s);
    }
  });
});
