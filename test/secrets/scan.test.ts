import { describe, expect, it } from 'vitest';
import { describeFindings, scanPayload, scanText } from '../../src/secrets/scan.ts';
import { Fakes } from '../fixtures/secrets/fakes.ts';

const f = new Fakes(5);

describe('scanText / scanPayload', () => {
  const token = f.github('ghp');
  const text = `deploy with ${token} please`;

  it('returns masked findings with the rule id, description, action, view and offset', () => {
    const [finding, ...rest] = scanText(text);
    expect(rest).toEqual([]);
    expect(finding).toEqual({
      kind: 'secret',
      ruleId: 'github-token',
      description: expect.any(String),
      masked: 'ghp_…(40 chars)',
      action: 'block',
      view: 'raw',
      offset: text.indexOf(token),
    });
  });

  it('follows the secrets mode', () => {
    expect(scanText(text, { secrets: 'warn' })[0]!.action).toBe('warn');
    expect(scanText(text, { secrets: 'off' })).toEqual([]);
  });

  it('scanText leaves PII off unless asked; scanPayload blocks card / SSN / IBAN by default', () => {
    const card = f.card('4', 16);
    expect(scanText(`card ${card}`)).toEqual([]);
    expect(scanPayload(`card ${card}`).map((x) => x.ruleId)).toEqual(['pii-card-number']);
  });

  it('reports a secret found in a decoded view once, naming the view', () => {
    const json = JSON.stringify({ text: JSON.stringify({ token }) });
    const findings = scanText(json);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.ruleId).toBe('github-token');
  });

  it('keeps the specific rule when a generic one matches the same characters', () => {
    expect(scanText(`GITHUB_TOKEN=${token}`).map((x) => x.ruleId)).toEqual(['github-token']);
    expect(scanText(`https://x-access-token:${token}@github.com/a/b`).map((x) => x.ruleId)).toEqual(['github-token']);
  });

  it('stops at maxFindings', () => {
    const many = Array.from({ length: 20 }, () => f.github('ghp')).join('\n');
    expect(scanText(many)).toHaveLength(20);
    expect(scanText(many, { maxFindings: 3 })).toHaveLength(3);
  });

  it('finds secrets in a command line (the Bash-egress hook uses the same table)', () => {
    const cmd = `curl -s -H "Authorization: Bearer ${f.b64url(32)}" https://api.example.org -d @body.json`;
    expect(scanText(cmd).map((x) => x.ruleId)).toEqual(['http-bearer-token']);
    expect(scanText('curl -s https://api.example.org/v1/status')).toEqual([]);
  });

  it('describeFindings lists ids and masked excerpts, and how many more', () => {
    const many = Array.from({ length: 7 }, () => f.github('ghp')).join(' ');
    const summary = describeFindings(scanText(many), 5);
    expect(summary).toMatch(/^github-token ghp_…\(40 chars\)(, github-token ghp_…\(40 chars\)){4}, and 2 more$/);
  });

  it('returns nothing for empty input', () => {
    expect(scanPayload('')).toEqual([]);
  });
});
