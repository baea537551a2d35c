/**
 * Blocks of non-loopback targets, each run inside a loopback-only network namespace
 * (`unshare -n`), together with the receiving server: if a guard failed, the packet could not leave
 * this machine. Covers a redirect hop to the cloud metadata address, to a private 10.x address, to a
 * name that resolves to an internal address and to a public host off the allowlist; and DNS
 * rebinding (a public answer first, an internal one after it): the connection goes only to the
 * address the guard vetted, the second answer is never asked for or used.
 */
import { canIsolateNetwork } from './support/claude.ts';
import { execFile, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const DRIVER = join(ROOT, 'test', 'e2e', 'support', 'netns-driver.ts');

// A namespace needs CAP_SYS_ADMIN (root, or an unprivileged user namespace). Without it these
// scenarios cannot run safely, so they are skipped (the in-process tests in test/pipeline cover the logic).
const NETNS = canIsolateNetwork();

interface DriverReport {
  exitCode: number;
  output: any;
  requests: { method: string; path: string; host: string | null }[];
  lookups?: string[][];
  connectedTo?: string[][];
  stderr?: string;
}

function inNetns(scenario: string, args: Record<string, unknown> = {}): Promise<DriverReport> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const command = `ip link set lo up && exec ${quote(TSX)} ${quote(DRIVER)} ${scenario} ${quote(JSON.stringify(args))}`;
  return new Promise((done, fail) => {
    execFile('unshare', ['-n', 'bash', '-c', command], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1);
      if (!line) return fail(new Error(`netns driver printed nothing (${error?.message}):\n${stderr}`));
      done(JSON.parse(line) as DriverReport);
    });
  });
}

describe.skipIf(!NETNS)('non-loopback targets, inside a loopback-only network namespace', () => {
  it('a redirect to the cloud metadata address is not followed', async () => {
    const report = await inNetns('redirect', { location: 'http://169.254.169.254/latest/meta-data/iam/' });
    expect(report.exitCode).toBe(2);
    expect(report.output.delivery.status).toBe('blocked');
    expect(report.output.constraints_applied.at(-1)).toMatchObject({ code: 'NETWORK_INTERNAL', result: 'block' });
    expect(report.output.delivery.error).toMatch(/^HTTP_REDIRECT_BLOCKED: .*NETWORK_INTERNAL: 169\.254\.169\.254 is a cloud-metadata address/);
    expect(report.output.delivery.retry_count).toBe(0);
    expect(report.requests).toEqual([{ method: 'POST', path: '/hook', host: expect.any(String) }]);
  });

  it('a redirect to a private 10.x address is not followed', async () => {
    const report = await inNetns('redirect', { location: 'http://10.0.0.5:8080/admin' });
    expect(report.exitCode).toBe(2);
    expect(report.output.delivery.error).toMatch(/HTTP_REDIRECT_BLOCKED: .*NETWORK_INTERNAL: 10\.0\.0\.5 is a private address/);
    expect(report.requests).toHaveLength(1);
  });

  it('a redirect to a name that resolves to an internal address is not followed (each hop resolved and checked)', async () => {
    const report = await inNetns('redirect', { location: 'http://intranet.corp-hooks.com/x', resolve: 'intranet.corp-hooks.com=10.1.2.3' });
    expect(report.exitCode).toBe(2);
    expect(report.output.delivery.error).toMatch(/HTTP_REDIRECT_BLOCKED: .*intranet\.corp-hooks\.com resolves to 10\.1\.2\.3/);
    expect(report.requests).toHaveLength(1);
  });

  it('a redirect to a public host off the allowlist is not followed', async () => {
    const report = await inNetns('redirect', {
      location: 'https://collector.attacker-hooks.net/steal',
      resolve: 'collector.attacker-hooks.net=93.184.216.34',
      policy: { destinations: { allow: ['127.0.0.1'] } },
    });
    expect(report.exitCode).toBe(2);
    expect(report.output.delivery.error).toMatch(/HTTP_REDIRECT_BLOCKED: .*DESTINATION_NOT_ALLOWED/);
    expect(report.requests).toHaveLength(1);
  });

  it('DNS rebinding: public on the first lookup, internal on the second — the connection goes only to the vetted public address', async () => {
    const report = await inNetns('rebinding');
    // Resolved once, by the network guard; the transport never asked again.
    expect(report.lookups).toEqual([['hooks.example.com', '93.184.216.34']]);
    // Every attempt was pinned to the vetted address (unreachable in the namespace, so it fails) ...
    expect(report.connectedTo).toEqual([['93.184.216.34'], ['93.184.216.34']]);
    expect(report.exitCode).toBe(1);
    expect(report.output.delivery.error).toMatch(/^HTTP_CONNECT_FAILED: cannot connect to hooks\.example\.com:\d+ \((ENETUNREACH|EHOSTUNREACH)\)/);
    // ... and nothing reached the server on 127.0.0.1, which the second answer (opened by the policy) would have reached.
    expect(report.requests).toEqual([]);
  });
});
