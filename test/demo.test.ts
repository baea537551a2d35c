import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('npm run demo (the README\'s first command)', () => {
  it('walks through blocks, approval, delivery, a rate limit and audit verify on its own local receiver', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      execFile('npm', ['run', '-s', 'demo'], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, timeout: 120_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`demo failed: ${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      );
    });
    expect(output).toMatch(/1\. The cloud metadata endpoint[\s\S]*?exit 2 {2}delivery\.status: blocked\s+NETWORK_INTERNAL: 169\.254\.169\.254 is a cloud-metadata address/);
    expect(output).toMatch(/exit 2 {2}delivery\.status: blocked\s+SECRET_IN_PAYLOAD: .*AKIA…\(20 chars\)/);
    expect(output).toMatch(/exit 3 {2}delivery\.status: approval_required/);
    expect(output).toMatch(/\[receiver\] POST \/hooks\/deploy {2}Idempotency-Key: sendgate-cp_\S+ {2}body: \{"text":"Build #142 passed on main"\}/);
    expect(output).toMatch(/8\. Re-running it does not deliver twice[\s\S]*?ALREADY_DELIVERED|8\. Re-running it does not deliver twice[\s\S]*?exit 0 {2}delivery\.status: sent/);
    expect(output).toMatch(/APPROVAL_INVALID: the approval token was issued for a different message/);
    expect(output).toMatch(/RATE_LIMITED: rate_limit\.max_messages_per_minute/);
    expect(output).toMatch(/OK: \d+ record\(s\) in .*hash chain intact/);
    expect(output).toMatch(/The receiver got 3 message\(s\)/);
  }, 150_000);
});
