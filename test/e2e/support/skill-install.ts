/**
 * Installs the skills the way a user does, from a local checkout: the repository's skills/ are
 * staged with freshly built bundles (scripts/build.ts into a temporary root, so the working tree
 * is never written), then the real `skills add <checkout> --skill <name>` copies the skill into a
 * project's .claude/skills/. The installed directory is all the tests use afterwards: no repo, no
 * node_modules.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, runSkillsCli, type E2ETools } from './tools.ts';

/** A copy of the checkout's skills with bundles built from the current sources. */
export async function stageCheckout(patch?: (checkout: string) => Promise<void> | void): Promise<string> {
  const checkout = mkdtempSync(join(tmpdir(), 'sendgate-checkout-'));
  cpSync(join(REPO_ROOT, 'skills'), join(checkout, 'skills'), { recursive: true });
  for (const extra of ['.claude-plugin', 'README.md', 'LICENSE']) {
    if (existsSync(join(REPO_ROOT, extra))) cpSync(join(REPO_ROOT, extra), join(checkout, extra), { recursive: true });
  }
  const { buildAll } = (await import('../../../scripts/build.ts')) as { buildAll: (outRoot: string) => Promise<string[]> };
  await buildAll(checkout);
  await patch?.(checkout);
  for (const skill of ['send', 'xmpp_send']) {
    const skillMd = join(checkout, 'skills', skill, 'SKILL.md');
    if (!existsSync(skillMd)) continue;
    for (const entry of hookEntries(readFileSync(skillMd, 'utf8'))) {
      const bundle = join(checkout, 'skills', skill, 'scripts', entry);
      if (!existsSync(bundle)) throw new Error(`skills/${skill}/SKILL.md runs scripts/${entry}, but scripts/build.ts did not produce it`);
    }
  }
  return checkout;
}

/** The bundle files a SKILL.md's hook commands run (scripts/<name>). */
export function hookEntries(skillMd: string): string[] {
  return [...new Set([...skillMd.matchAll(/scripts\/((?:pre|post)-tool-use[\w-]*\.[cm]?js)/g)].map((m) => m[1]!))];
}

export interface InstalledSkill {
  project: string;
  home: string;
  dir: string;
  skillMd: string;
}

export function installSkill(tools: E2ETools, checkout: string, skill: string): InstalledSkill {
  const root = mkdtempSync(join(tmpdir(), 'sendgate-install-'));
  const project = join(root, 'project');
  const home = join(root, 'home');
  mkdirSync(project, { recursive: true });
  mkdirSync(home, { recursive: true });
  runSkillsCli(tools, ['add', checkout, '--skill', skill, '--agent', 'claude-code', '--yes', '--copy'], { cwd: project, env: { HOME: home, PATH: process.env.PATH ?? '' } });
  const dir = join(project, '.claude', 'skills', skill);
  if (!existsSync(join(dir, 'SKILL.md'))) throw new Error(`skills add did not install ${skill} into ${dir}`);
  return { project, home, dir, skillMd: readFileSync(join(dir, 'SKILL.md'), 'utf8') };
}

/** The hooks of a SKILL.md's frontmatter, with ${CLAUDE_PLUGIN_ROOT} set to the skill directory. */
export function skillHooks(installed: InstalledSkill): Record<string, unknown> {
  const match = /^---\n([\s\S]*?)\n---/.exec(installed.skillMd);
  if (!match) throw new Error('SKILL.md has no frontmatter');
  const frontmatter = parse(match[1]!) as { hooks?: Record<string, unknown> };
  if (!frontmatter.hooks) throw new Error('SKILL.md frontmatter has no hooks');
  return JSON.parse(JSON.stringify(frontmatter.hooks).replaceAll('${CLAUDE_PLUGIN_ROOT}', installed.dir).replaceAll('${CLAUDE_SKILL_DIR}', installed.dir)) as Record<string, unknown>;
}
