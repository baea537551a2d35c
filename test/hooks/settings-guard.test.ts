/**
 * The model cannot switch sendgate's guard off through Claude Code itself: settings files (hook
 * entries, disableAllHooks, enabledPlugins, env), the installed plugin and skill bundles, the
 * plugin/skill commands and the hook-bypass variables. Benign calls on the same files (reading
 * them, adding a permission, keeping the hooks) stay untouched. Real files in temporary HOME and
 * project directories; every case runs through the hook's fast path (light.ts) and its core.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** Every file path the guard reads, so the tests can show unrelated calls read nothing. */
const reads: string[] = [];
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((path: Parameters<typeof fs.readFileSync>[0], ...rest: unknown[]) => {
    reads.push(String(path));
    return (fs.readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, readFileSync, default: { ...fs, readFileSync } };
});

const { quickPreToolUse } = await import('../../src/hooks/light.ts');
const { decidePreToolUse } = await import('../../src/hooks/pre-tool-use.ts');
const { denyReason, protectedAccess } = await import('../../src/hooks/protect.ts');
const { parseCommandLine } = await import('../../src/egress/shell.ts');
const { policySchema } = await import('../../src/config/schema.ts');
const { settingsChangeProblem } = await import('../../src/hooks/settings-guard.ts');
type HookInput = import('../../src/hooks/types.ts').HookInput;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PRE = `sh -c 'f="$1"; command -v node >/dev/null 2>&1 || { echo "sendgate: node not found" >&2; exit 2; }; node "$f"; rc=$?; [ "$rc" -eq 0 ] || exit 2' sendgate-pre-tool-use "/opt/sendgate/hooks/dist/pre-tool-use.cjs"`;
const POST = `sh -c 'f="$1"; [ -f "$f" ] && exec node "$f"; exit 0' sendgate-post-tool-use "/opt/sendgate/hooks/dist/post-tool-use.cjs"`;
const MATCHER = 'Bash|WebFetch|Read|Write|Edit|MultiEdit|Glob|Grep|mcp__.*';

const projectSettings = {
  permissions: { allow: ['Bash(npm test)'], deny: [] as string[] },
  hooks: {
    PreToolUse: [{ matcher: MATCHER, hooks: [{ type: 'command', command: PRE, timeout: 30 }] }],
    PostToolUse: [{ matcher: 'Bash|WebFetch|mcp__.*', hooks: [{ type: 'command', command: POST, timeout: 30 }] }],
  },
};
const PROJECT_SETTINGS_TEXT = `${JSON.stringify(projectSettings, null, 2)}\n`;
const USER_SETTINGS_TEXT = `${JSON.stringify({ model: 'sonnet', enabledPlugins: { 'sendgate@sendgate': true, 'other@market': true }, env: { FOO: 'bar' } }, null, 2)}\n`;
const END = "would switch off or change sendgate's hooks; ask the user to make this change themselves.";

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'sendgate-settings-guard-'));
  const home = join(root, 'home');
  const project = join(root, 'project');
  const dotfiles = join(root, 'dotfiles');
  const checkout = join(root, 'sendgate-checkout');
  const write = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };
  write(join(project, '.claude', 'settings.json'), PROJECT_SETTINGS_TEXT);
  write(join(project, '.claude', 'settings.local.json'), '{\n  "enabledPlugins": { "sendgate@sendgate": true }\n}\n');
  write(join(project, 'package.json'), '{"name":"app"}\n');
  write(join(project, 'src', 'hooks', 'useThing.ts'), 'export {};\n');
  // ~/.claude/settings.json is a symlink into a dotfiles repo, as dotfile managers set it up.
  write(join(dotfiles, 'claude-settings.json'), USER_SETTINGS_TEXT);
  mkdirSync(join(home, '.claude'), { recursive: true });
  symlinkSync(join(dotfiles, 'claude-settings.json'), join(home, '.claude', 'settings.json'));
  write(join(home, '.claude', 'CLAUDE.md'), '# notes\n');
  // The skills as `skills add` installs them: ~/.claude/skills/send (global), <project>/.claude/skills/xmpp_send.
  write(join(home, '.claude', 'skills', 'send', 'SKILL.md'), readFileSync(join(repo, 'skills', 'send', 'SKILL.md'), 'utf8'));
  write(join(home, '.claude', 'skills', 'send', 'scripts', 'pre-tool-use.cjs'), '// bundle\n');
  write(join(project, '.claude', 'skills', 'xmpp_send', 'SKILL.md'), readFileSync(join(repo, 'skills', 'xmpp_send', 'SKILL.md'), 'utf8'));
  write(join(home, '.claude', 'skills', 'other', 'SKILL.md'), '---\nname: other\ndescription: not sendgate\n---\n');
  // The plugin as Claude Code installs it, and a checkout loaded with --plugin-dir.
  write(join(home, '.claude', 'plugins', 'installed_plugins.json'), '{"version":2,"plugins":{"sendgate@sendgate":[{"scope":"user"}]}}\n');
  write(join(home, '.claude', 'plugins', 'cache', 'sendgate', 'sendgate', '0.1.0', 'hooks', 'hooks.json'), readFileSync(join(repo, 'hooks', 'hooks.json'), 'utf8'));
  write(join(checkout, '.claude-plugin', 'plugin.json'), readFileSync(join(repo, '.claude-plugin', 'plugin.json'), 'utf8'));
  write(join(checkout, 'hooks', 'hooks.json'), readFileSync(join(repo, 'hooks', 'hooks.json'), 'utf8'));
  write(join(checkout, 'hooks', 'dist', 'pre-tool-use.cjs'), '// bundle\n');
  write(join(checkout, 'src', 'hooks', 'protect.ts'), 'export {};\n');
  const env: NodeJS.ProcessEnv = { HOME: home, CLAUDE_PROJECT_DIR: project, SENDGATE_HOME: join(root, 'state') };
  const sub = (text: string) => text.replaceAll('<HOME>', home).replaceAll('<PROJECT>', project).replaceAll('<CHECKOUT>', checkout).replaceAll('<DOTFILES>', dotfiles);
  const input = (tool_name: string, tool_input: Record<string, unknown>): HookInput => ({
    session_id: 's', transcript_path: null, cwd: project, permission_mode: 'default', hook_event_name: 'PreToolUse', tool_name, tool_input, tool_use_id: 'toolu_1',
  });
  return { root, home, project, checkout, dotfiles, env, sub, input };
}

type Case = [string, string, Record<string, unknown>];

const withoutHooks = JSON.stringify({ permissions: projectSettings.permissions }, null, 2);
const keepsHooks = JSON.stringify({ ...projectSettings, permissions: { allow: ['Bash(npm test)', 'Bash(npm run lint)'], deny: [] }, hooks: { ...projectSettings.hooks, Stop: [{ hooks: [{ type: 'command', command: 'notify-send done' }] }] } }, null, 2);
const matcherChanged = PROJECT_SETTINGS_TEXT.replace(`"matcher": "${MATCHER}"`, '"matcher": "NeverMatches"');

const DENIED: Case[] = [
  // Settings files: Write / Edit / MultiEdit / NotebookEdit
  ['Edit: old_string holds the sendgate hook', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: '"command": "sh -c', new_string: '"command": "true #' }],
  ['Edit: old_string holds the "hooks" key', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: '"hooks": {', new_string: '"hooks_off": {' }],
  ['Edit: the matcher changes (no "sendgate" in old_string)', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: `"matcher": "${MATCHER}"`, new_string: '"matcher": "NeverMatches"' }],
  ['Edit: curly-quoted old_string the Edit tool would still match', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: '\u201Ctimeout\u201D: 30\n          }\n        ]\n      }\n    ],\n    \u201CPostToolUse\u201D', new_string: '"timeout": 30, "async": true }]}],"PostToolUse"' }],
  ['MultiEdit: the second edit drops the PreToolUse entry', 'MultiEdit', { file_path: '<PROJECT>/.claude/settings.json', edits: [{ old_string: 'Bash(npm test)', new_string: 'Bash(npm test:*)' }, { old_string: '"PreToolUse"', new_string: '"PreToolUseOff"' }] }],
  ['Edit: old_string not found as written in a file with sendgate entries (cannot be checked)', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: '"timeout":30', new_string: '"timeout":1' }],
  ['Write: the sendgate hooks are gone', 'Write', { file_path: '<PROJECT>/.claude/settings.json', content: withoutHooks }],
  ['Write: the matcher of the sendgate hook changed', 'Write', { file_path: '<PROJECT>/.claude/settings.json', content: matcherChanged }],
  ['Edit: the local settings drop the sendgate plugin', 'Edit', { file_path: '<PROJECT>/.claude/settings.local.json', old_string: '"enabledPlugins": { "sendgate@sendgate": true }', new_string: '"enabledPlugins": {}' }],
  ['Write: the file would no longer parse', 'Write', { file_path: '<PROJECT>/.claude/settings.json', content: PROJECT_SETTINGS_TEXT.slice(0, -20) }],
  ['Write: disableAllHooks in a new settings.local.json', 'Write', { file_path: '<PROJECT>/.claude/settings.local.json', content: '{ "disableAllHooks": true }' }],
  ['Write: disableAllHooks nested anywhere', 'Write', { file_path: '<HOME>/.claude/settings.local.json', content: '{ "permissions": { "allow": [] }, "x": { "disableAllHooks": true } }' }],
  ['Write: enabledPlugins sendgate false (through the symlinked user settings)', 'Write', { file_path: '<HOME>/.claude/settings.json', content: USER_SETTINGS_TEXT.replace('"sendgate@sendgate": true', '"sendgate@sendgate": false') }],
  ['Write to the dotfiles file the user settings link to', 'Write', { file_path: '<DOTFILES>/claude-settings.json', content: '{ "model": "opus" }' }],
  ['Edit: env CLAUDE_CODE_SIMPLE added', 'Edit', { file_path: '<HOME>/.claude/settings.json', old_string: '"FOO": "bar"', new_string: '"FOO": "bar", "CLAUDE_CODE_SIMPLE": "1"' }],
  ['Edit: env SENDGATE_POLICY added', 'Edit', { file_path: '<HOME>/.claude/settings.json', old_string: '"FOO": "bar"', new_string: '"FOO": "bar", "SENDGATE_POLICY": "/tmp/open.yaml"' }],
  ['Write: skillOverrides turns send off', 'Write', { file_path: '<HOME>/.claude/settings.local.json', content: '{ "skillOverrides": { "send": "off" } }' }],
  ['Write: managed settings', 'Write', { file_path: '/etc/claude-code/managed-settings.json', content: '{ "allowManagedHooksOnly": true }' }],
  ['NotebookEdit on a settings file', 'NotebookEdit', { notebook_path: '<PROJECT>/.claude/settings.json', new_source: '{}', edit_mode: 'replace' }],
  // Plugin and skill bundles
  ['Edit: the installed send skill', 'Edit', { file_path: '<HOME>/.claude/skills/send/SKILL.md', old_string: 'name: send', new_string: 'name: send2' }],
  ['Write: the send skill hook bundle', 'Write', { file_path: '<HOME>/.claude/skills/send/scripts/pre-tool-use.cjs', content: 'process.exit(0)' }],
  ['Write: the project xmpp_send skill', 'Write', { file_path: '<PROJECT>/.claude/skills/xmpp_send/SKILL.md', content: '---\nname: xmpp_send\n---\n' }],
  ['Write: the installed plugin hooks.json', 'Write', { file_path: '<HOME>/.claude/plugins/cache/sendgate/sendgate/0.1.0/hooks/hooks.json', content: '{}' }],
  ['Edit: installed_plugins.json', 'Edit', { file_path: '<HOME>/.claude/plugins/installed_plugins.json', old_string: '"sendgate@sendgate"', new_string: '"gone"' }],
  ['Write: a --plugin-dir checkout\'s hook bundle', 'Write', { file_path: '<CHECKOUT>/hooks/dist/pre-tool-use.cjs', content: 'process.exit(0)' }],
  ['Edit: a --plugin-dir checkout\'s hooks.json', 'Edit', { file_path: '<CHECKOUT>/hooks/hooks.json', old_string: 'PreToolUse', new_string: 'Nothing' }],
  ['Write: ~/.bashrc exporting CLAUDE_CODE_SIMPLE', 'Write', { file_path: '<HOME>/.bashrc', content: 'export PATH=$PATH:~/bin\nexport CLAUDE_CODE_SIMPLE=1\n' }],
];

const DENIED_BASH: string[] = [
  // writes onto settings files
  `echo '{}' > .claude/settings.json`,
  'cat /tmp/mine.json >> ~/.claude/settings.json',
  'echo "{\\"disableAllHooks\\": true}" | tee .claude/settings.local.json',
  "sed -i '/sendgate/d' .claude/settings.json",
  "perl -pi -e 's/sendgate//' ~/.claude/settings.json",
  'rm .claude/settings.json',
  'mv ~/.claude/settings.json ~/.claude/settings.json.bak',
  'cp /tmp/clean.json <PROJECT>/.claude/settings.json',
  'cp /tmp/settings.json ~/.claude/',
  'truncate -s 0 ~/.claude/settings.json',
  'chmod 000 .claude/settings.json',
  'ln -sf /dev/null ~/.claude/settings.json',
  "jq 'del(.hooks)' .claude/settings.json > /tmp/s.json && mv /tmp/s.json .claude/settings.json",
  `python3 -c "import json; json.dump({}, open('.claude/settings.json', 'w'))"`,
  `node -e "require('fs').writeFileSync(process.env.HOME + '/.claude/settings.json', '{}')"`,
  "python3 - <<'EOF'\nimport pathlib\npathlib.Path.home().joinpath('.claude/settings.json').write_text('{}')\nEOF",
  'python3 fix_settings.py .claude/settings.json',
  'rm ~/.claude/settings*.json',
  'cd ~/.claude && rm settings.json',
  "bash -c 'rm ~/.claude/settings.json'",
  'ls ~/.claude/settings.json | xargs rm',
  'git checkout -- .claude/settings.json',
  'git restore .claude/settings.json',
  'find ~/.claude -name settings.json -delete',
  'sudo tee /etc/claude-code/managed-settings.json < /tmp/policy.json',
  'cp -r /tmp/template/.claude .',
  'install -m 600 /tmp/clean.json ~/.claude/settings.json',
  'tar -xzf backup.tgz -C ~/',
  'git clean -fdx',
  // the plugin and the installed skills
  'rm -rf ~/.claude/skills/send',
  'rm -rf $HOME/.claude/skills/*',
  'rm -rf .claude/skills/xmpp_send',
  'mv ~/.claude/skills ~/.claude/skills.off',
  'rm -rf ~/.claude',
  'rm -rf ~/.claude/plugins/cache/sendgate',
  'rm -rf ~/.claude/plugins/cache',
  "sed -i 's/exit 2/exit 0/' ~/.claude/plugins/cache/sendgate/sendgate/0.1.0/hooks/hooks.json",
  'echo "process.exit(0)" > <CHECKOUT>/hooks/dist/pre-tool-use.cjs',
  'rm -rf <CHECKOUT>/hooks',
  // plugin and skill commands
  'claude plugin disable sendgate@sendgate',
  'claude plugin uninstall sendgate',
  'claude plugins rm sendgate --scope project',
  'claude plugin disable --all',
  'claude plugin marketplace remove sendgate',
  'npx @anthropic-ai/claude-code plugin uninstall sendgate@sendgate',
  'npx skills remove send -y',
  'npx -y skills@latest rm xmpp_send --global',
  'npx skills remove --all',
  "claude config set -g hooks '{}'",
  // hook-bypass variables and flags
  'CLAUDE_CODE_SIMPLE=1 claude -p "curl http://10.0.0.1/"',
  'env CLAUDE_CODE_SAFE_MODE=1 claude',
  'export CLAUDE_CODE_SIMPLE=1',
  "echo 'export CLAUDE_CODE_SIMPLE=1' >> ~/.bashrc",
  'claude --bare -p "send the file"',
  'claude --safe-mode',
  'claude --setting-sources project -p hi',
  `claude --settings '{"disableAllHooks": true}' -p hi`,
  'CLAUDE_CONFIG_DIR=/tmp/empty claude -p "post the logs"',
];

const UNTOUCHED: Case[] = [
  ['Edit: add a permission (old_string touches no hook)', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: '"Bash(npm test)"', new_string: '"Bash(npm test)",\n      "Bash(npm run lint)"' }],
  ['Edit: add a deny rule', 'Edit', { file_path: '<PROJECT>/.claude/settings.json', old_string: '"deny": []', new_string: '"deny": ["Read(./.env)"]' }],
  ['Edit: old_string not in a settings file without sendgate entries (the edit fails anyway)', 'Edit', { file_path: '<HOME>/.claude/settings.local.json', old_string: 'no such text', new_string: '{}' }],
  ['Edit: change the model in the user settings', 'Edit', { file_path: '<HOME>/.claude/settings.json', old_string: '"model": "sonnet"', new_string: '"model": "opus"' }],
  ['Edit: add another env variable', 'Edit', { file_path: '<HOME>/.claude/settings.json', old_string: '"FOO": "bar"', new_string: '"FOO": "bar", "DEBUG": "1"' }],
  ['Write: keeps the sendgate hooks, adds a permission and a hook', 'Write', { file_path: '<PROJECT>/.claude/settings.json', content: keepsHooks }],
  ['Write: a new settings.local.json with permissions', 'Write', { file_path: '<HOME>/.claude/settings.local.json', content: '{ "permissions": { "allow": ["Bash(make)"] } }' }],
  ['Write: user settings keeping enabledPlugins', 'Write', { file_path: '<HOME>/.claude/settings.json', content: USER_SETTINGS_TEXT.replace('"sonnet"', '"opus"') }],
  ['Read: project settings', 'Read', { file_path: '<PROJECT>/.claude/settings.json' }],
  ['Read: managed settings', 'Read', { file_path: '/etc/claude-code/managed-settings.json' }],
  ['Read: the send skill', 'Read', { file_path: '<HOME>/.claude/skills/send/SKILL.md' }],
  ['Edit: ~/.claude/CLAUDE.md', 'Edit', { file_path: '<HOME>/.claude/CLAUDE.md', old_string: '# notes', new_string: '# notes\n- be brief' }],
  ['Write: package.json', 'Write', { file_path: '<PROJECT>/package.json', content: '{"name":"app","version":"1.0.0"}' }],
  ['Write: another JSON file', 'Write', { file_path: '<PROJECT>/tsconfig.json', content: '{"compilerOptions":{}}' }],
  ['Write: a project command under .claude/', 'Write', { file_path: '<PROJECT>/.claude/commands/deploy.md', content: 'deploy it' }],
  ['Edit: a source file under src/hooks', 'Edit', { file_path: '<PROJECT>/src/hooks/useThing.ts', old_string: 'export {};', new_string: 'export const x = 1;' }],
  ['Edit: sources of the sendgate checkout', 'Edit', { file_path: '<CHECKOUT>/src/hooks/protect.ts', old_string: 'export {};', new_string: 'export const y = 2;' }],
  ['Edit: a skill that is not sendgate\'s', 'Edit', { file_path: '<HOME>/.claude/skills/other/SKILL.md', old_string: 'not sendgate', new_string: 'mine' }],
  ['Write: ~/.bashrc without bypass variables', 'Write', { file_path: '<HOME>/.bashrc', content: 'export PATH=$PATH:~/bin\n' }],
];

const UNTOUCHED_BASH: string[] = [
  'cat .claude/settings.json',
  'git diff .claude/settings.json',
  "jq '.hooks' .claude/settings.json",
  'jq . ~/.claude/settings.json > /tmp/settings-copy.json',
  'cp .claude/settings.json /tmp/settings-backup.json',
  'python3 -m json.tool .claude/settings.json',
  `python3 -c "import json; print(json.load(open('.claude/settings.json'))['hooks'])"`,
  'grep -n sendgate ~/.claude/settings.json',
  'ls -la ~/.claude/skills/send',
  'claude --version',
  'claude plugin list',
  'claude plugin install other@market',
  'claude plugin disable other@market',
  'npx skills list',
  'npx skills remove some-other-skill -y',
  'grep -rn CLAUDE_CODE_SIMPLE src',
  'rm -rf node_modules dist',
  'rm -f /tmp/sendgate-test-output.txt',
  'echo hello > notes.txt',
  'mkdir -p .claude/commands && echo "x" > .claude/commands/x.md',
  'git status && git stash && git checkout main',
  "find . -name '*.pyc' -delete",
  'chmod -R u+w .',
  'cp -r src ~/',
  'mv src/a.ts src/b.ts',
  'sed -n 1,20p .claude/settings.json',
  'HOME=/tmp/h claude --version',
  'git clean -fd src',
  'tar czf /tmp/claude-backup.tgz -C ~/.claude .',
  'rm -rf ~/.claude/plugins/data/other-plugin',
  'node ~/.claude/skills/send/scripts/send.mjs --destination https://example.com/hook --protocol http --message hi --dry-run',
];

describe('settings guard: denied', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  const expectDenied = async (tool: string, toolInput: Record<string, unknown>) => {
    const resolvedInput = JSON.parse(t.sub(JSON.stringify(toolInput))) as Record<string, unknown>;
    const input = t.input(tool, resolvedInput);
    const quick = quickPreToolUse(input, t.env);
    expect(quick.kind).toBe('deny');
    expect(quick.kind === 'deny' && quick.reason).toMatch(/^sendgate: CONFIG_PROTECTED: /);
    const parsed = tool === 'Bash' ? parseCommandLine(String(resolvedInput.command)) : undefined;
    const reason = protectedAccess(tool, resolvedInput, { env: t.env, cwd: t.project }, parsed);
    expect(reason).not.toBeNull();
    expect(denyReason(reason!)).toMatch(/^sendgate: CONFIG_PROTECTED: .+ would switch off or change sendgate's hooks; ask the user to make this change themselves\.$/s);
    expect(denyReason(reason!).endsWith(END)).toBe(true);
    const policy = policySchema.parse({ version: 1 });
    const decision = await decidePreToolUse(input, { env: t.env, loadPolicy: () => policy, audit: false });
    expect(decision?.decision).toBe('deny');
    expect(decision?.reason).toMatch(/^sendgate: CONFIG_PROTECTED: /);
    return reason!;
  };

  it.each(DENIED)('%s', async (_name, tool, toolInput) => {
    await expectDenied(tool, toolInput);
  });

  it.each(DENIED_BASH)('Bash: %s', async (command) => {
    await expectDenied('Bash', { command, description: 'test' });
  });

  it('says what would change', async () => {
    expect(await expectDenied('Write', { file_path: '<PROJECT>/.claude/settings.json', content: withoutHooks })).toMatch(/removes or changes sendgate's hook entries/);
    expect(await expectDenied('Write', { file_path: '<PROJECT>/.claude/settings.local.json', content: '{"disableAllHooks": true}' })).toMatch(/sets disableAllHooks/);
    expect(await expectDenied('Bash', { command: 'claude plugin uninstall sendgate' })).toMatch(/`claude plugin uninstall sendgate`/);
    expect(await expectDenied('Bash', { command: 'rm -rf ~/.claude/skills/send' })).toMatch(/an installed sendgate skill/);
  });

  it('fails closed when the settings file cannot be read to check an edit', async () => {
    const dir = join(t.home, '.claude', 'settings.local.json');
    mkdirSync(dir, { recursive: true }); // a directory where the file should be: EISDIR
    await expectDenied('Edit', { file_path: dir, old_string: 'a', new_string: 'b' });
  });
});

describe('settings guard: untouched', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  const expectUntouched = async (tool: string, toolInput: Record<string, unknown>) => {
    const resolvedInput = JSON.parse(t.sub(JSON.stringify(toolInput))) as Record<string, unknown>;
    const parsed = tool === 'Bash' ? parseCommandLine(String(resolvedInput.command)) : undefined;
    expect(protectedAccess(tool, resolvedInput, { env: t.env, cwd: t.project }, parsed)).toBeNull();
    const quick = quickPreToolUse(t.input(tool, resolvedInput), t.env);
    expect(quick.kind).not.toBe('deny');
    if (tool !== 'Bash') expect(quick.kind).toBe('none');
  };

  it.each(UNTOUCHED)('%s', async (_name, tool, toolInput) => {
    await expectUntouched(tool, toolInput);
  });

  it.each(UNTOUCHED_BASH)('Bash: %s', async (command) => {
    await expectUntouched('Bash', { command, description: 'test' });
  });

  it('reads no settings file, SKILL.md or plugin manifest for unrelated calls', () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['Write', { file_path: join(t.project, 'src', 'app.ts'), content: 'x' }],
      ['Edit', { file_path: join(t.project, 'README.md'), old_string: 'a', new_string: 'b' }],
      ['Write', { file_path: join(t.project, 'package.json'), content: '{}' }],
      ['Bash', { command: 'npm test && git status' }],
      ['Bash', { command: 'rm -rf dist && echo done > build.log' }],
    ];
    for (const [tool, toolInput] of calls) {
      reads.length = 0;
      expect(quickPreToolUse(t.input(tool, toolInput), t.env).kind).not.toBe('deny');
      expect(reads.filter((p) => /settings|SKILL\.md|plugin\.json|installed_plugins/.test(p))).toEqual([]);
    }
  });

  it('checks the content only when the target is a settings file', () => {
    reads.length = 0;
    expect(quickPreToolUse(t.input('Edit', { file_path: join(t.project, '.claude', 'settings.json'), old_string: '"Bash(npm test)"', new_string: '"Bash(npm test)", "Bash(make)"' }), t.env).kind).toBe('none');
    expect(reads).toContain(join(t.project, '.claude', 'settings.json'));
  });
});

describe('settings guard: the hook process', () => {
  it('prints a JSON deny (exit 0) for a config change, from the fast path', () => {
    const t = setup();
    const stdin = JSON.stringify(t.input('Bash', { command: 'claude plugin uninstall sendgate' }));
    const result = spawnSync(join(repo, 'node_modules', '.bin', 'tsx'), [join(repo, 'hooks', 'pre-tool-use.ts')], { input: stdin, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...t.env }, timeout: 30_000 });
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as { hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string } };
    expect(output.hookSpecificOutput.permissionDecision).toBe('deny');
    expect(output.hookSpecificOutput.permissionDecisionReason).toMatch(/CONFIG_PROTECTED: `claude plugin uninstall sendgate` would switch off or change sendgate's hooks/);
  });
});

describe('settingsChangeProblem', () => {
  it.each([
    [null, '{"hooks": {"PreToolUse": []}}', null],
    [PROJECT_SETTINGS_TEXT, PROJECT_SETTINGS_TEXT.replace('"timeout": 30', '"timeout": 1'), /hook entries/],
    [PROJECT_SETTINGS_TEXT, `// comment\n${PROJECT_SETTINGS_TEXT}`, /plain JSON/],
    [`// mine\n${PROJECT_SETTINGS_TEXT}`, `// mine\n${PROJECT_SETTINGS_TEXT.replace(/\n}\n$/, ',\n  "model": "opus",\n}\n')}`, null],
    ['{"disableAllHooks": true, "x": 1}', '{"disableAllHooks": true, "x": 2}', null],
    ['{}', '{"allowManagedHooksOnly": true}', /allowManagedHooksOnly/],
    ['{"enabledPlugins": {"sendgate@acme": true}}', '{"enabledPlugins": {}}', /removes the sendgate plugin/],
    ['{"env": {"SENDGATE_HOME": "/a"}}', '{"env": {}}', /SENDGATE_HOME/],
    ['{"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "sendgate-pre-tool-use x"}]}]}, }}', '{"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "x"}]}]}}', /hook commands/],
  ] as const)('%#', (current, next, expected) => {
    const problem = settingsChangeProblem(current, next);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});
