/**
 * Keeps the model from switching sendgate's guard off through Claude Code itself: its settings
 * files (where sendgate's hooks and `enabledPlugins` live, and where `disableAllHooks` would turn
 * every hook off), the installed plugin and skill bundles (the bundles are the guard), the plugin
 * and skill commands (`claude plugin uninstall sendgate`, `npx skills remove send`), and the
 * environment variables that start Claude Code without hooks (bare and safe mode).
 *
 * Cheap on the common path: every check starts from the path or the command text; a settings file
 * or a SKILL.md is read only when the target is one. Reading any of these files stays allowed, and
 * a settings edit that keeps sendgate's entries as they are (a new permission, another hook) passes.
 *
 * The answer is what would be changed (`what`), or null; protect.ts turns it into the deny reason.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { basename, displayWord, type ParsedCommandLine, type SimpleCommand } from '../egress/shell.ts';

export interface GuardContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Where Claude Code reads managed (enterprise) settings: Linux, macOS. Every file there is protected. */
export const MANAGED_DIRS = ['/etc/claude-code', '/Library/Application Support/ClaudeCode'];
/** The skills sendgate installs (`name:` in their SKILL.md). */
const SKILL_NAMES = ['send', 'xmpp_send'];
/**
 * Environment variables that start Claude Code without the hooks of settings and installed plugins:
 * CLAUDE_CODE_SIMPLE is bare mode (`--bare`), CLAUDE_CODE_SAFE_MODE is safe mode (`--safe-mode`).
 */
export const HOOK_BYPASS_ENV = ['CLAUDE_CODE_SIMPLE', 'CLAUDE_CODE_SAFE_MODE'];
/** Settings `env` entries (inherited by the hook itself) that would switch hooks off or swap sendgate's state or policy. */
const SETTINGS_ENV = [...HOOK_BYPASS_ENV, 'SENDGATE_HOME', 'SENDGATE_POLICY', 'XDG_STATE_HOME', 'HOME'];
/** Settings keys that switch hooks off (all of them, or all but the managed ones). */
const DISABLING_KEYS = ['disableAllHooks', 'allowManagedHooksOnly', 'strictPluginOnlyCustomization'];

const BYPASS_ASSIGNMENT = /\b(CLAUDE_CODE_(?:SIMPLE|SAFE_MODE))\b['"\]]*\s*(?:=|:(?![-+?=]))|\bsetenv\s+(CLAUDE_CODE_(?:SIMPLE|SAFE_MODE))\b|\bset\s+-[a-zA-Z]*x[a-zA-Z]*\s+(CLAUDE_CODE_(?:SIMPLE|SAFE_MODE))\b/;
const SETTINGS_NAME = /(^|\/)\.claude\/settings(\.local)?\.json$|(^|\/)managed-settings\.json$|(^|\/)managed-settings\.d\/[^/]+$/;
/** Shell start-up and env files: a bypass variable set there reaches the next session. */
const RC_FILE = /^(\.(bash|zsh)rc|\.bash_profile|\.bash_login|\.profile|\.zprofile|\.zshenv|\.zlogin|\.envrc|\.env(\..*)?|config\.fish|environment)$/;
/** Text that names one of the protected files (for command lines and inline scripts whose paths cannot be resolved). */
const MENTIONS_PROTECTED = /settings(\.local)?\.json|managed-settings|\.claude\/skills\/(send|xmpp_send)\b|\.agents\/skills\/(send|xmpp_send)\b|installed_plugins\.json|known_marketplaces\.json|plugins\/[^\s'"]*sendgate|\.claude-plugin|hooks\/hooks\.json/i;
/** A path that could not be resolved (an unknown variable in it) but whose visible part is protected. */
const UNRESOLVED_PROTECTED = /(^|\/)\.claude\/settings(\.local)?\.json$|managed-settings|(^|\/)\.claude\/?$|(^|\/)\.(claude|agents)\/skills(\/(send|xmpp_send)(\/|$)|\/?$)|(^|\/)plugins\/.*sendgate|(^|\/)\.claude-plugin(\/|$)/i;
/** Calls in an inline script (python -c, node -e, a here-document) that write, move or delete files. */
const WRITE_CALL = /\bopen\s*\([^)]*,\s*['"][^'"]*[wax+]|\.write_(text|bytes)\s*\(|\bwrite(File|FileSync|Sync)\s*\(|appendFile|\bunlink|\brm(Sync|dir|tree)?\s*\(|\bremove\s*\(|\brename|\breplace\s*\(|shutil\.|json\.dump\b|copyFile|cpSync|\bsymlink|\bchmod|\btruncate|os\.system|subprocess|child_process|\bexec(Sync|File)?\s*\(|\bspawn(Sync)?\s*\(|\bsystem\s*\(|\bFile\.(write|delete|open)|Deno\.(write|remove)|Bun\.write|fs\.promises|open\s*\(\s*(my\s+)?\$?\w+\s*,\s*['"][>+]/;
const INTERPRETERS = /^(python[0-9.]*|pypy[0-9.]*|node(js)?|perl|ruby|bun|deno|php|pwsh|powershell|osascript|tclsh|lua)$/;
const EDITORS = new Set(['vi', 'vim', 'nvim', 'nano', 'emacs', 'ed', 'ex', 'pico', 'joe', 'micro', 'sponge', 'patch']);
const WRITE_REDIRECTS = new Set(['>', '>>', '>|', '&>', '&>>', '<>', '>&']);

/* ------------------------------------------------------------------------------------------ */
/* Paths                                                                                       */
/* ------------------------------------------------------------------------------------------ */

type Kind = 'settings' | 'managed' | 'plugin' | 'skill';

const KIND_TEXT: Record<Kind, string> = {
  settings: 'Claude Code settings',
  managed: 'Claude Code managed settings',
  plugin: 'the sendgate plugin',
  skill: 'an installed sendgate skill',
};

/** Per-call memo of the files read (SKILL.md, plugin.json, settings), so one decision reads each at most once. */
class Memo {
  private readonly texts = new Map<string, string | null>();
  constructor(readonly ctx: GuardContext) {}

  text(path: string, limit = 1024 * 1024): string | null {
    if (this.texts.has(path)) return this.texts.get(path)!;
    let text: string | null = null;
    try {
      const stat = statSync(path);
      if (stat.isFile() && stat.size <= limit) text = readFileSync(path, 'utf8');
    } catch {
      text = null;
    }
    this.texts.set(path, text);
    return text;
  }

  /** A directory holding an installed sendgate skill: its SKILL.md is named send/xmpp_send and runs sendgate's hooks. */
  isSendgateSkill(dir: string): boolean {
    const text = this.text(join(dir, 'SKILL.md'));
    if (!text) return false;
    const name = /^name:\s*['"]?([\w.-]+)['"]?\s*$/m.exec(text)?.[1];
    return !!name && SKILL_NAMES.includes(name) && /sendgate/i.test(text);
  }

  /** A directory with `.claude-plugin/plugin.json` whose name is sendgate. */
  isSendgatePlugin(dir: string): boolean {
    const text = this.text(join(dir, '.claude-plugin', 'plugin.json'));
    return !!text && /"name"\s*:\s*"sendgate"/.test(text);
  }

  private settingsReal?: Set<string>;
  /** The real paths of the known settings files (a settings file may be a symlink into a dotfiles repo). */
  realSettings(): Set<string> {
    if (!this.settingsReal) {
      this.settingsReal = new Set();
      for (const file of settingsFiles(this.ctx)) {
        try {
          this.settingsReal.add(realpathSync(file));
        } catch {
          /* not there */
        }
      }
    }
    return this.settingsReal;
  }

  private known?: Array<{ path: string; confirm: () => boolean; tracked: boolean }>;
  /**
   * Protected things at known places, each with a check that it is really there (and really
   * sendgate's): what deleting or moving one of their parent directories would take with it.
   */
  knownLocations(): Array<{ path: string; confirm: () => boolean; tracked: boolean }> {
    if (this.known) return this.known;
    const list: Array<{ path: string; confirm: () => boolean; tracked: boolean }> = [];
    const { env } = this.ctx;
    for (const file of settingsFiles(this.ctx)) {
      list.push({ path: file, confirm: () => /sendgate/i.test(this.text(file) ?? ''), tracked: file.endsWith('/settings.json') });
    }
    for (const dir of pluginDirs(env)) {
      const registry = join(dir, 'installed_plugins.json');
      list.push({ path: registry, confirm: () => /sendgate/i.test(this.text(registry) ?? ''), tracked: false });
    }
    const skillParents = [...projectDirs(this.ctx).flatMap((p) => [join(p, '.claude', 'skills'), join(p, '.agents', 'skills')]), join(home(env), '.agents', 'skills'), ...configDirs(env).map((c) => join(c, 'skills'))];
    for (const parent of unique(skillParents)) {
      for (const name of SKILL_NAMES) {
        const dir = join(parent, name);
        list.push({ path: dir, confirm: () => this.isSendgateSkill(dir), tracked: false });
      }
    }
    if (env.CLAUDE_PLUGIN_ROOT) {
      const root = resolve(env.CLAUDE_PLUGIN_ROOT);
      list.push({ path: root, confirm: () => this.isSendgateSkill(root) || this.isSendgatePlugin(root), tracked: false });
    }
    this.known = list;
    return list;
  }
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Claude Code's configuration directories: ~/.claude, and CLAUDE_CONFIG_DIR when set. */
function configDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs = [join(home(env), '.claude')];
  if (env.CLAUDE_CONFIG_DIR) dirs.push(resolve(env.CLAUDE_CONFIG_DIR));
  return unique(dirs);
}

function projectDirs(ctx: GuardContext): string[] {
  return unique([ctx.cwd, ctx.env.CLAUDE_PROJECT_DIR].filter((p): p is string => !!p).map((p) => resolve(p)));
}

function pluginDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs = configDirs(env).map((c) => join(c, 'plugins'));
  if (env.CLAUDE_CODE_PLUGIN_CACHE_DIR) dirs.push(resolve(env.CLAUDE_CODE_PLUGIN_CACHE_DIR));
  return unique(dirs);
}

/** The settings files Claude Code reads for this session (project, local, user, managed). */
export function settingsFiles(ctx: GuardContext): string[] {
  const files: string[] = [];
  for (const project of projectDirs(ctx)) files.push(join(project, '.claude', 'settings.json'), join(project, '.claude', 'settings.local.json'));
  for (const config of configDirs(ctx.env)) files.push(join(config, 'settings.json'), join(config, 'settings.local.json'));
  for (const managed of MANAGED_DIRS) files.push(join(managed, 'managed-settings.json'));
  return unique(files);
}

/** What a (resolved, absolute) path is, if it is protected. Reads a SKILL.md or plugin.json only when the path has the shape of one. */
function classify(full: string, memo: Memo): Kind | null {
  const { ctx } = memo;
  if (MANAGED_DIRS.some((dir) => inside(full, dir))) return 'managed';
  if (SETTINGS_NAME.test(full) || settingsFiles(ctx).includes(full)) return 'settings';
  for (const dir of pluginDirs(ctx.env)) {
    if (!inside(full, dir) || full === dir) continue;
    const rel = relative(dir, full);
    if (/sendgate/i.test(rel) || /^(installed_plugins|known_marketplaces)\.json$/.test(rel)) return 'plugin';
  }
  const skill = skillDirOf(full, ctx.env);
  if (skill && memo.isSendgateSkill(skill)) return 'skill';
  if (ctx.env.CLAUDE_PLUGIN_ROOT) {
    const root = resolve(ctx.env.CLAUDE_PLUGIN_ROOT);
    if (inside(full, root) && memo.isSendgateSkill(root)) return 'skill';
  }
  // A sendgate plugin outside Claude Code's plugin directory (--plugin-dir, a marketplace source):
  // the parts that run as the guard (manifest, hooks, skill definitions and their bundles).
  for (const match of full.matchAll(/\/(hooks|skills|\.claude-plugin)(?=\/|$)/g)) {
    const root = full.slice(0, match.index) || '/';
    const rel = relative(root, full);
    if (/^\.claude-plugin(\/|$)|^hooks(\/(hooks\.json|dist(\/.*)?))?$|^skills(\/[^/]+(\/(SKILL\.md|scripts(\/.*)?))?)?$/.test(rel) && memo.isSendgatePlugin(root)) return 'plugin';
  }
  return null;
}

/** The skill directory a path is in (…/.claude/skills/<dir>, …/.agents/skills/<dir>, <CLAUDE_CONFIG_DIR>/skills/<dir>). */
function skillDirOf(full: string, env: NodeJS.ProcessEnv): string | null {
  const match = /^(.*\/\.(?:claude|agents)\/skills\/[^/]+)(?:\/|$)/.exec(full);
  if (match) return match[1]!;
  for (const config of configDirs(env)) {
    const base = join(config, 'skills');
    if (inside(full, base) && full !== base) return join(base, relative(base, full).split('/')[0]!);
  }
  return null;
}

/** The real path, or for a file that does not exist yet the real path of its directory plus its name. */
function canonical(full: string): string {
  try {
    return realpathSync(full);
  } catch {
    try {
      return join(realpathSync(dirname(full)), full.slice(dirname(full).length + 1));
    } catch {
      return full;
    }
  }
}

/** Classifies the path and, for writes (which follow symlinks), the file it really is. */
function classifyWrite(full: string, memo: Memo): { kind: Kind; file: string } | null {
  const kind = classify(full, memo);
  if (kind) return { kind, file: full };
  const real = canonical(full);
  if (real !== full) {
    const realKind = classify(real, memo);
    if (realKind) return { kind: realKind, file: real };
  }
  if (/\.json$/.test(real) && memo.realSettings().has(real)) return { kind: 'settings', file: real };
  return null;
}

/** A protected thing inside `dir` (which a delete or move of `dir` would take with it). */
function protectedBelow(dir: string, memo: Memo, untrackedOnly = false): string | null {
  for (const location of memo.knownLocations()) {
    if (untrackedOnly && location.tracked) continue;
    if (inside(location.path, dir) && location.confirm()) return location.path;
  }
  // The installed plugin: its cache and marketplace copies (cache/<marketplace>/sendgate/<version>, marketplaces/sendgate).
  for (const plugins of pluginDirs(memo.ctx.env)) {
    if (!inside(plugins, dir) && !inside(dir, plugins)) continue;
    for (const pattern of ['cache/*/sendgate', 'cache/sendgate', 'marketplaces/sendgate', 'marketplaces/*/plugins/sendgate']) {
      for (const found of expandGlob(join(plugins, pattern))) {
        if (!/[*?[]/.test(found) && inside(found, dir) && isDirectory(found)) return found;
      }
    }
  }
  if (memo.isSendgatePlugin(dir)) return dir;
  return null;
}

function expandHome(path: string, ctx: GuardContext): string {
  return path === '~' || path.startsWith('~/') ? join(home(ctx.env), path.slice(1)) : path;
}

/* ------------------------------------------------------------------------------------------ */
/* Settings content                                                                            */
/* ------------------------------------------------------------------------------------------ */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON, or JSON with comments and trailing commas; undefined when it is neither. */
function parseSettings(text: string): Json | undefined {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as Json;
  } catch {
    /* try the lenient form */
  }
  try {
    const stripped = text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str: string | undefined) => str ?? '').replace(/,(\s*[}\]])/g, '$1');
    return JSON.parse(stripped) as Json;
  } catch {
    return undefined;
  }
}

function isStrictJson(text: string): boolean {
  if (text.trim() === '') return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  return JSON.stringify(value);
}

/** Every hook handler as event + matcher + the handler itself (so a changed matcher, command, timeout or `if` is a different entry). */
function hookEntries(settings: Json | undefined): Map<string, string> {
  const entries = new Map<string, string>();
  if (!isObject(settings) || !isObject(settings.hooks)) return entries;
  for (const [event, groups] of Object.entries(settings.hooks)) {
    if (!Array.isArray(groups)) continue;
    for (const group of groups) {
      if (!isObject(group)) continue;
      const matcher = canonicalJson(group.matcher ?? null);
      const handlers = Array.isArray(group.hooks) ? group.hooks : [];
      for (const handler of handlers) {
        const text = canonicalJson(handler);
        entries.set(`${event}\u0000${matcher}\u0000${text}`, text);
      }
    }
  }
  return entries;
}

/** JSON paths (anywhere in the document) where one of the keys is set to a true-ish value. */
function truthyKeys(value: Json | undefined, keys: string[], path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) value.forEach((item, i) => truthyKeys(item, keys, `${path}[${i}]`, out));
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (keys.includes(key) && item !== false && item !== null && item !== 'false' && item !== 0) out.set(`${path}.${key}=${canonicalJson(item)}`, key);
      truthyKeys(item, keys, `${path}.${key}`, out);
    }
  }
  return out;
}

function sendgateEntries(record: Json | undefined): Map<string, Json> {
  const out = new Map<string, Json>();
  if (isObject(record)) for (const [key, value] of Object.entries(record)) if (/^sendgate(@|$)/i.test(key)) out.set(key, value);
  return out;
}

/** Hook command strings, read from text that is not valid JSON (so its sendgate commands can still be compared). */
function commandStrings(text: string): Set<string> {
  const out = new Set<string>();
  for (const match of text.matchAll(/"command"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
    try {
      out.add(JSON.parse(match[1]!) as string);
    } catch {
      out.add(match[1]!);
    }
  }
  return out;
}

/**
 * Why replacing a settings file's `current` text (null: no file yet) with `next` would switch off
 * or change sendgate's hooks, or null when sendgate's entries come through untouched.
 */
export function settingsChangeProblem(current: string | null, next: string): string | null {
  const before = current === null ? {} : parseSettings(current);
  const after = parseSettings(next);
  if (after !== undefined && current !== null && /sendgate/i.test(current) && isStrictJson(current) && !isStrictJson(next)) {
    return 'the file would no longer be plain JSON, which Claude Code may not load';
  }
  if (after === undefined) {
    if (current !== null && /sendgate/i.test(current)) return 'the file would no longer parse, which drops sendgate\'s entries';
    const key = [...DISABLING_KEYS, ...HOOK_BYPASS_ENV].find((k) => new RegExp(`"${k}"\\s*:\\s*(true|"[^"]+"|[1-9])`).test(next));
    return key ? `it sets ${key}` : null;
  }
  if (before === undefined) {
    // The current file does not parse: compare what can be read of it, its sendgate hook commands.
    const nextCommands = new Set([...hookEntries(after).values()].map((handler) => (JSON.parse(handler) as { command?: string }).command ?? ''));
    for (const command of commandStrings(current!)) {
      if (/sendgate/i.test(command) && !nextCommands.has(command)) return 'it removes or changes sendgate\'s hook commands';
    }
  } else {
    const kept = hookEntries(after);
    for (const [key, handler] of hookEntries(before)) {
      if (/sendgate/i.test(handler) && !kept.has(key)) return 'it removes or changes sendgate\'s hook entries';
    }
  }
  const beforeObject = isObject(before) ? before : {};
  const afterObject = isObject(after) ? after : {};
  const disabledBefore = truthyKeys(beforeObject, DISABLING_KEYS);
  for (const [path, key] of truthyKeys(afterObject, DISABLING_KEYS)) if (!disabledBefore.has(path)) return `it sets ${key}`;

  const pluginsBefore = sendgateEntries(beforeObject.enabledPlugins);
  const pluginsAfter = sendgateEntries(afterObject.enabledPlugins);
  for (const [key, value] of pluginsAfter) {
    if (value !== true && canonicalJson(value) !== canonicalJson(pluginsBefore.get(key) ?? null)) return `it disables the sendgate plugin (enabledPlugins.${key})`;
  }
  for (const [key, value] of pluginsBefore) {
    if (value === true && !pluginsAfter.has(key)) return `it removes the sendgate plugin from enabledPlugins (${key})`;
  }

  const envBefore = isObject(beforeObject.env) ? beforeObject.env : {};
  const envAfter = isObject(afterObject.env) ? afterObject.env : {};
  for (const name of SETTINGS_ENV) {
    if (canonicalJson(envAfter[name] ?? null) !== canonicalJson(envBefore[name] ?? null)) return `it changes ${name} in env`;
  }

  const skillsBefore = isObject(beforeObject.skillOverrides) ? beforeObject.skillOverrides : {};
  const skillsAfter = isObject(afterObject.skillOverrides) ? afterObject.skillOverrides : {};
  for (const [name, value] of Object.entries(skillsAfter)) {
    const skill = name.split(':').pop()!;
    if (SKILL_NAMES.includes(skill) && value !== 'on' && canonicalJson(value) !== canonicalJson(skillsBefore[name] ?? null)) return `it turns the ${skill} skill off (skillOverrides)`;
  }
  return null;
}

/* ------------------------------------------------------------------------------------------ */
/* File tools                                                                                  */
/* ------------------------------------------------------------------------------------------ */

interface EditSpec {
  old_string: string;
  new_string: string;
  replace_all: boolean;
}

/** Curly quotes and CRLF as Claude Code's Edit tool tolerates them when matching old_string. */
function normalise(text: string): string {
  return text.replace(/[\u2018\u2019]/g, "'").replace(/[\u201C\u201D]/g, '"').replace(/\r\n/g, '\n');
}

function edits(tool: string, input: Record<string, unknown>): EditSpec[] | null {
  const raw = tool === 'MultiEdit' ? input.edits : [input];
  if (!Array.isArray(raw)) return null;
  const out: EditSpec[] = [];
  for (const edit of raw) {
    if (!edit || typeof edit !== 'object') return null;
    const { old_string, new_string, replace_all } = edit as Record<string, unknown>;
    if (typeof old_string !== 'string' || typeof new_string !== 'string') return null;
    out.push({ old_string, new_string, replace_all: replace_all === true });
  }
  return out;
}

/** The file's text after the edits, or null when the edit would fail (old_string not there). */
function applyEdits(current: string | null, list: EditSpec[]): string | null {
  let text = current;
  for (const [i, edit] of list.entries()) {
    if (text === null) {
      if (i === 0 && edit.old_string === '') {
        text = edit.new_string;
        continue;
      }
      return null;
    }
    let old = edit.old_string;
    if (old === '') {
      if (text !== '') return null;
      text = edit.new_string;
      continue;
    }
    if (!text.includes(old)) {
      const normalised = normalise(text);
      old = normalise(old);
      if (!normalised.includes(old)) return null;
      text = normalised;
    }
    text = edit.replace_all ? text.split(old).join(edit.new_string) : `${text.slice(0, text.indexOf(old))}${edit.new_string}${text.slice(text.indexOf(old) + old.length)}`;
  }
  return text;
}

function readCurrent(file: string): { text: string | null } | { error: string } {
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { text: null };
    return { error: code ?? 'unreadable' };
  }
}

function writtenText(tool: string, input: Record<string, unknown>): string {
  if (tool === 'Write') return typeof input.content === 'string' ? input.content : '';
  if (tool === 'NotebookEdit') return typeof input.new_source === 'string' ? input.new_source : '';
  return (edits(tool, input) ?? []).map((e) => e.new_string).join('\n');
}

function fileToolProblem(tool: string, input: Record<string, unknown>, ctx: GuardContext): string | null {
  const raw = String(input.file_path ?? input.notebook_path ?? input.path ?? '');
  if (!raw) return null;
  const full = resolve(ctx.cwd, expandHome(raw, ctx));
  const label = `${tool} of ${raw}`;

  const name = full.slice(full.lastIndexOf('/') + 1);
  if (RC_FILE.test(name)) {
    const match = BYPASS_ASSIGNMENT.exec(writtenText(tool, input));
    if (match) return `${label} (it sets ${match[1] ?? match[2] ?? match[3]}, which starts Claude Code without hooks)`;
  }

  const memo = new Memo(ctx);
  const target = classifyWrite(full, memo);
  if (!target) return null;
  if (target.kind !== 'settings' || tool === 'NotebookEdit') return `${label} (${KIND_TEXT[target.kind]})`;

  const current = readCurrent(target.file);
  if ('error' in current) return `${label} (the current file cannot be read to check it: ${current.error})`;
  let next: string | null;
  if (tool === 'Write') {
    if (typeof input.content !== 'string') return `${label} (no content to check)`;
    next = input.content;
  } else {
    const list = edits(tool, input);
    if (!list) return `${label} (edits that cannot be checked)`;
    for (const edit of list) {
      const old = normalise(edit.old_string);
      if (/sendgate/i.test(old)) return `${label} (its old_string touches sendgate's entries)`;
      if (old.includes('"hooks"') && current.text !== null && /sendgate/i.test(current.text)) return `${label} (its old_string touches the "hooks" key)`;
    }
    next = applyEdits(current.text, list);
    if (next === null) {
      // old_string is not in the file as written: the edit fails, unless the Edit tool matches it in a
      // way not reproduced here; with sendgate's entries in the file, what it would change is unknown.
      return current.text !== null && /sendgate/i.test(current.text) ? `${label} (its old_string is not in the file as written, so what it would change cannot be checked)` : null;
    }
  }
  const problem = settingsChangeProblem(current.text, next);
  return problem ? `${label} (${problem})` : null;
}

/* ------------------------------------------------------------------------------------------ */
/* Bash                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** Non-nested brace expansion ({a,b}), bounded. */
function expandBraces(word: string, limit = 64): string[] {
  const match = /\{([^{}]*,[^{}]*)\}/.exec(word);
  if (!match) return [word];
  const out: string[] = [];
  for (const part of match[1]!.split(',')) {
    for (const rest of expandBraces(`${word.slice(0, match.index)}${part}${word.slice(match.index + match[0].length)}`, limit)) {
      out.push(rest);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function globSegment(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += `[${segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    return new RegExp(`^${segment.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`); // a class the shell would not read either ([z-a]): literal
  }
}

/** Pathname expansion on disk (bounded), as the shell would do it; the word itself when nothing matches. */
function expandGlob(path: string, limit = 256): string[] {
  if (!/[*?[]/.test(path)) return [path];
  const segments = path.split('/').filter((s, i) => s !== '' || i === 0);
  let current = [segments[0] === '' ? '/' : '.'];
  for (const segment of segments.slice(segments[0] === '' ? 1 : 0)) {
    const next: string[] = [];
    for (const dir of current) {
      if (!/[*?[]/.test(segment)) {
        next.push(join(dir, segment));
        continue;
      }
      const re = globSegment(segment);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (re.test(name)) next.push(join(dir, name));
        if (next.length >= limit) break;
      }
    }
    current = next;
    if (current.length === 0) return [path];
  }
  return current;
}

type Op = 'write' | 'delete' | 'delete-untracked';

interface Target {
  word: string;
  op: Op;
  base?: string;
}

class BashCheck {
  private readonly memo: Memo;
  constructor(
    private readonly command: string,
    private readonly ctx: GuardContext,
    private readonly bases: string[],
  ) {
    this.memo = new Memo(ctx);
  }

  /** The paths a word can name: variables the hook knows, every working directory of the line, braces and globs. */
  private paths(word: string, base?: string): { paths: string[]; unresolved: string | null } {
    const { env } = this.ctx;
    let text = displayWord(word);
    const known: Record<string, string | undefined> = { HOME: home(env), CLAUDE_PROJECT_DIR: env.CLAUDE_PROJECT_DIR, CLAUDE_CONFIG_DIR: env.CLAUDE_CONFIG_DIR ?? join(home(env), '.claude'), CLAUDE_PLUGIN_ROOT: env.CLAUDE_PLUGIN_ROOT, PWD: this.ctx.cwd };
    text = text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => known[name] ?? m);
    text = expandHome(text, this.ctx);
    if (text.includes('$')) return { paths: [], unresolved: text };
    const out: string[] = [];
    for (const dir of base ? [base] : this.bases) {
      for (const variant of expandBraces(text)) out.push(...expandGlob(resolve(dir, variant)));
    }
    return { paths: unique(out), unresolved: null };
  }

  /** Why writing to / deleting what `word` names would touch sendgate's configuration, or null. */
  target(name: string, t: Target): string | null {
    const shown = displayWord(t.word);
    const { paths, unresolved } = this.paths(t.word, t.base);
    if (unresolved !== null) {
      if (UNRESOLVED_PROTECTED.test(unresolved)) return `\`${name}\` on ${shown}`;
      if (/^\$[?(A-Za-z_{]/.test(unresolved) && !unresolved.includes('/') && MENTIONS_PROTECTED.test(this.command)) return `\`${name}\` on ${shown} (a path computed from text that names sendgate's configuration)`;
      return null;
    }
    for (const path of paths) {
      if (path === '/dev/null' || path.startsWith('/dev/') || path.startsWith('/proc/')) continue;
      const hit = t.op === 'write' ? classifyWrite(path, this.memo)?.kind ?? null : classify(path, this.memo);
      if (hit) return `\`${name}\` on ${shown} (${KIND_TEXT[hit]})`;
      if (t.op !== 'write') {
        const below = protectedBelow(path, this.memo, t.op === 'delete-untracked');
        if (below) return `\`${name}\` on ${shown} (it holds ${below})`;
      }
    }
    return null;
  }

  /** The targets a simple command writes or deletes. */
  targets(c: SimpleCommand): { name: string; targets: Target[]; inline?: string } {
    const argv = c.argv;
    const name = argv.length ? basename(argv[0]!) : '';
    const targets: Target[] = [];
    for (const r of c.redirects) {
      if (!WRITE_REDIRECTS.has(r.op)) continue;
      if (r.op === '>&' && /^(\d+|-)$/.test(r.target)) continue;
      targets.push({ word: r.target, op: 'write' });
    }
    if (!argv.length) return { name: '>', targets };
    const args = argv.slice(1);
    const operands = (list = args) => {
      const out: string[] = [];
      let options = true;
      for (const arg of list) {
        if (options && arg === '--') options = false;
        else if (!options || !arg.startsWith('-') || arg === '-') out.push(arg);
      }
      return out;
    };
    const hasFlag = (re: RegExp) => args.some((a) => re.test(a));
    /** cp / install / ln / rsync / mv: the destination, or each source's name inside it when it is a directory. */
    const destinations = (recursive: boolean, rsync = false) => {
      const valued = name === 'install' ? /^-[mogS]$/ : name === 'rsync' ? /^(-e|--rsh|--exclude|--include|--filter|-f)$/ : /^(-S|--suffix)$/;
      const ops = operands(args.filter((a, i) => !valued.test(a) && !(i > 0 && valued.test(args[i - 1]!)))).filter((a) => a !== '-');
      const tIndex = args.findIndex((a) => a === '-t' || a.startsWith('--target-directory'));
      let dest: string | undefined;
      let sources: string[];
      if (tIndex >= 0) {
        dest = args[tIndex]!.includes('=') ? args[tIndex]!.split('=')[1] : args[tIndex + 1];
        sources = ops.filter((a) => a !== dest);
      } else {
        dest = ops[ops.length - 1];
        sources = ops.slice(0, -1);
      }
      if (!dest || sources.length === 0) return;
      const op: Op = recursive ? 'delete' : 'write';
      const existingDir = this.paths(dest).paths.some((p) => isDirectory(p));
      // Not a directory (yet): the destination itself is what gets written.
      if (!existingDir) targets.push({ word: dest, op });
      if (!existingDir && tIndex < 0 && !dest.endsWith('/') && sources.length === 1) return;
      for (const source of sources) {
        if (rsync && source.endsWith('/')) {
          targets.push({ word: dest, op: 'delete' }); // rsync src/ dest: the contents of src land in dest
          continue;
        }
        const leaf = displayWord(source).replace(/\/+$/, '').split('/').pop() ?? '';
        if (!leaf || leaf.includes('$')) targets.push({ word: dest, op });
        else targets.push({ word: `${dest.replace(/\/+$/, '')}/${leaf}`, op });
      }
    };
    const recursive = hasFlag(/^-[a-zA-Z]*[rRa]|^--recursive$|^--archive$/);

    const all = (op: Op, words = operands()) => {
      for (const word of words) targets.push({ word, op });
    };
    switch (name) {
      case 'tee':
      case 'truncate':
        all('write');
        break;
      case 'rm':
      case 'unlink':
      case 'rmdir':
      case 'shred':
      case 'srm':
      case 'trash':
      case 'trash-put':
      case 'gio':
        all('delete');
        break;
      case 'mv':
        all('delete');
        destinations(true);
        break;
      case 'chmod':
      case 'chown':
      case 'chgrp':
      case 'chattr':
      case 'setfacl': {
        // Only a recursive change that can take read access away reaches below the named path.
        const words = operands();
        const mode = name === 'chmod' ? words[0] ?? '' : '';
        const widening = name === 'chmod' && (/^[0-7]{3,4}$/.test(mode) ? (Number(mode.slice(-3, -2)) & 4) === 4 : /^[ugoa]*\+[rwxXst]+$/.test(mode));
        const deep = name === 'chmod' && hasFlag(/^-[a-zA-Z]*R|^--recursive$/) && !widening;
        all(deep ? 'delete' : 'write', name === 'chmod' || name === 'chown' || name === 'chgrp' ? words.slice(1) : words);
        break;
      }
      case 'cp':
      case 'install':
        destinations(recursive);
        break;
      case 'rsync':
        destinations(true, true);
        break;
      case 'ln':
        destinations(false);
        break;
      case 'dd':
        for (const arg of args) if (arg.startsWith('of=')) targets.push({ word: arg.slice(3), op: 'write' });
        break;
      case 'sed':
      case 'gsed':
      case 'yq':
        if (hasFlag(/^-[a-zA-Z]*i|^--in-place|^--inplace/)) all('write');
        break;
      case 'awk':
      case 'gawk':
        if (args.some((a, i) => (a === '-i' && args[i + 1] === 'inplace') || a === '-iinplace')) all('write');
        break;
      case 'tar':
      case 'bsdtar':
      case 'unzip':
      case '7z':
      case 'cpio': {
        // Unpacking into a directory that holds sendgate's configuration can overwrite it.
        const at = args.findIndex((a) => a === '-C' || a === '--directory' || (name === 'unzip' && a === '-d'));
        const inline = args.find((a) => a.startsWith('--directory=') || (name === '7z' && a.startsWith('-o')));
        const dir = at >= 0 ? args[at + 1] : inline ? inline.slice(inline.indexOf('=') + 1 || 2) : undefined;
        const unpacking = name !== 'tar' && name !== 'bsdtar' ? true : args.some((a, i) => ((i === 0 || a.startsWith('-')) && !a.startsWith('--') && /^-?[a-zA-Z]*x/.test(a)) || a === '--extract');
        if (dir && unpacking) targets.push({ word: dir, op: 'delete' });
        break;
      }
      case 'git':
        this.gitTargets(args, targets);
        break;
      case 'find':
        this.findTargets(args, targets);
        break;
      default:
        if (EDITORS.has(name)) all('write');
        else if (INTERPRETERS.test(name)) {
          // perl -i / ruby -i edit their file operands in place.
          if ((name === 'perl' || name === 'ruby') && hasFlag(/^-[a-zA-Z]*i/)) all('write');
          return { name, targets, inline: this.inlineCode(c) };
        }
    }
    return { name, targets };
  }

  private gitTargets(args: string[], targets: Target[]): void {
    let i = 0;
    let base: string | undefined;
    while (i < args.length && args[i]!.startsWith('-')) {
      if (args[i] === '-C') base = this.paths(args[i + 1] ?? '.').paths[0];
      i += args[i] === '-C' || args[i] === '-c' ? 2 : 1;
    }
    const sub = args[i];
    const rest = args.slice(i + 1);
    const paths = rest.filter((a) => !a.startsWith('-'));
    if ((sub === 'rm' && !rest.includes('--cached')) || sub === 'mv') for (const word of paths) targets.push({ word, op: 'delete', ...(base ? { base } : {}) });
    else if (sub === 'checkout' || sub === 'restore' || sub === 'reset') {
      const dd = rest.indexOf('--');
      const files = dd >= 0 ? rest.slice(dd + 1) : sub === 'restore' ? paths : [];
      for (const word of files) targets.push({ word, op: word === '.' ? 'write' : 'delete-untracked', ...(base ? { base } : {}) });
    } else if (sub === 'clean' && rest.some((a) => /^-[a-zA-Z]*[xX]/.test(a))) {
      for (const word of paths.length ? paths : ['.']) targets.push({ word, op: 'delete-untracked', ...(base ? { base } : {}) });
    }
  }

  private findTargets(args: string[], targets: Target[]): void {
    const first = args.findIndex((a) => a.startsWith('-') || a === '(' || a === '!');
    const starts = (first < 0 ? args : args.slice(0, first)).filter((a) => a !== '');
    const expression = first < 0 ? [] : args.slice(first);
    if (!expression.some((a) => /^-(delete|exec|execdir|ok|okdir|fprint|fprintf|fls)$/.test(a))) return;
    const filtered = expression.some((a) => /^-(i?name|i?path|i?wholename|i?regex)$/.test(a));
    if (filtered && !/settings|\.claude|sendgate|skills?|plugins?|SKILL|send|hooks|managed|\*\.json|^\*$/i.test(expression.join(' '))) return;
    for (const word of starts.length ? starts : ['.']) targets.push({ word, op: 'delete' });
  }

  /** An interpreter's inline program: -c / -e / --eval text, here-documents and here-strings, and what is piped in. */
  private inlineCode(c: SimpleCommand): string {
    const parts = c.argv.slice(1).filter((a) => !a.startsWith('-') || a.length > 40);
    for (const r of c.redirects) if (r.text) parts.push(r.text);
    for (const feeder of c.stdinFrom) parts.push(feeder.argv.join(' '));
    return parts.join('\n');
  }

  check(parsed: ParsedCommandLine): string | null {
    for (const c of parsed.commands) {
      const bypass = bypassIn(c);
      if (bypass) return `setting ${bypass} (it starts Claude Code without hooks)`;
      const program = programOf(c.argv);
      if (program?.name === 'claude') {
        const relocated = c.assignments.find(([name]) => name === 'CLAUDE_CONFIG_DIR' || name === 'HOME');
        if (relocated && !program.args.some((a) => /^(-v|--version|-h|--help)$/.test(a))) return `running claude with ${relocated[0]} set (a session without the settings and plugins that hold sendgate's hooks)`;
        const problem = this.claude(program.args);
        if (problem) return problem;
      } else if (program?.name === 'skills') {
        const problem = skillsCli(program.args);
        if (problem) return problem;
      }
      const { name, targets, inline } = this.targets(c);
      if (inline !== undefined) {
        if (WRITE_CALL.test(inline) && MENTIONS_PROTECTED.test(inline)) return `a \`${name}\` script that writes to sendgate's configuration (${MENTIONS_PROTECTED.exec(inline)![0]})`;
        const problem = this.scriptOperands(name, c, inline);
        if (problem) return problem;
      }
      for (const t of targets) {
        const problem = this.target(name, t);
        if (problem) return problem;
      }
    }
    return null;
  }

  /**
   * A protected file handed to a script the hook cannot read (python3 fix.py ~/.claude/settings.json):
   * the script may write it. Inline code without write calls and `python -m json.tool` only read;
   * the script itself (even one of sendgate's own bundles) is run, not written.
   */
  private scriptOperands(name: string, c: SimpleCommand, inline: string): string | null {
    const args = c.argv.slice(1);
    if (args.includes('json.tool')) return null;
    const inlineFlag = args.findIndex((a) => /^-(c|e|E|p|r|-eval|-print)$/.test(a));
    const hasCode = inlineFlag >= 0 || c.redirects.some((r) => r.text !== undefined) || c.stdinFrom.length > 0;
    if (hasCode && !WRITE_CALL.test(inline)) return null;
    let words = args.filter((a, i) => !a.startsWith("-") && (inlineFlag < 0 || i !== inlineFlag + 1));
    if (inlineFlag < 0) words = words.slice(1); // the script file
    for (const word of words) {
      const problem = this.target(name, { word, op: 'write' });
      if (problem) return `${problem}, handed to a script that may write it`;
    }
    return null;
  }

  private claude(args: string[]): string | null {
    const dd = args.indexOf('--');
    const options = dd >= 0 ? args.slice(0, dd) : args;
    for (const flag of ['--bare', '--safe-mode']) if (options.includes(flag)) return `running claude with ${flag} (it starts without hooks)`;
    if (options.some((a) => a === '--setting-sources' || a.startsWith('--setting-sources='))) return 'running claude with --setting-sources (it can leave out the settings that hold sendgate\'s hooks)';
    const settingsAt = options.findIndex((a) => a === '--settings' || a.startsWith('--settings='));
    if (settingsAt >= 0) {
      const value = options[settingsAt]!.includes('=') ? options[settingsAt]!.slice('--settings='.length) : options[settingsAt + 1] ?? '';
      const text = value.trim().startsWith('{') ? value : this.memo.text(resolve(this.ctx.cwd, expandHome(displayWord(value), this.ctx)));
      const problem = text === null ? null : settingsChangeProblem(null, text);
      if (problem) return `running claude with --settings where ${problem}`;
    }
    const words = options.filter((a) => !a.startsWith('-'));
    const at = words.findIndex((w) => w === 'plugin' || w === 'plugins');
    if (at >= 0) {
      const sub = words[at + 1];
      const rest = options.slice(options.indexOf(sub ?? '') + 1);
      const names = rest.filter((a) => !a.startsWith('-'));
      const shown = `claude plugin ${[sub, ...rest].join(' ')}`.trim();
      if (sub === 'uninstall' || sub === 'remove' || sub === 'rm') {
        if (names.length === 0 || names.some((n) => /^sendgate(@|$)/i.test(n))) return `\`${shown}\``;
      } else if (sub === 'disable') {
        if (rest.some((a) => a === '-a' || a === '--all') || names.length === 0 || names.some((n) => /^sendgate(@|$)/i.test(n))) return `\`${shown}\``;
      } else if (sub === 'marketplace') {
        const action = names[0];
        if ((action === 'remove' || action === 'rm') && (names.length < 2 || names.slice(1).some((n) => this.sendgateMarketplaces().has(n.toLowerCase())))) return `\`${shown}\``;
      }
    }
    const configAt = words.indexOf('config');
    if (configAt >= 0 && ['set', 'add', 'remove', 'rm', 'unset'].includes(words[configAt + 1] ?? '')) {
      const rest = words.slice(configAt + 2);
      if (/hook|enabledPlugins|^env$|skillOverrides|strictPlugin/i.test(rest[0] ?? '') || rest.some((w) => /sendgate/i.test(w)) || rest.length === 0) return `\`claude config ${words.slice(configAt + 1).join(' ')}\``;
    }
    return null;
  }

  /** Marketplaces that provide sendgate: "sendgate", and X of every sendgate@X in the settings files. */
  private sendgateMarketplaces(): Set<string> {
    const names = new Set(['sendgate']);
    for (const file of settingsFiles(this.ctx)) {
      for (const match of (this.memo.text(file) ?? '').matchAll(/"sendgate@([^"]+)"/gi)) names.add(match[1]!.toLowerCase());
    }
    for (const dir of pluginDirs(this.ctx.env)) {
      for (const match of (this.memo.text(join(dir, 'installed_plugins.json')) ?? '').matchAll(/"sendgate@([^"]+)"/gi)) names.add(match[1]!.toLowerCase());
    }
    return names;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The program a command runs, seen through package runners (npx, bunx, pnpm dlx, npm exec) and `node <cli>`. */
function programOf(argv: string[]): { name: string; args: string[] } | null {
  if (!argv.length) return null;
  let name = basename(argv[0]!);
  let i = 1;
  const runner = name === 'npx' || name === 'bunx' || name === 'pnpx' ? 1 : (name === 'pnpm' || name === 'yarn' || name === 'bun') && (argv[1] === 'dlx' || argv[1] === 'x') ? 2 : name === 'npm' && (argv[1] === 'exec' || argv[1] === 'x') ? 2 : 0;
  if (runner) {
    i = runner;
    while (i < argv.length && argv[i]!.startsWith('-')) i += /^(-p|--package|-c|--call)$/.test(argv[i]!) ? 2 : 1;
    if (argv[i] === '--') i++;
    if (i >= argv.length) return null;
    name = argv[i]!.replace(/^(@[^/]+\/[^@]+|[^@]+)@.*$/, '$1');
    i++;
  } else if (/^node(js)?$/.test(name) && argv[1]) {
    if (/skills\/(bin\/cli|dist\/cli)\.m?js$/.test(argv[1])) return { name: 'skills', args: argv.slice(2) };
    if (/claude-code\/(cli\.js|bin\/claude(\.exe)?)$/.test(argv[1])) return { name: 'claude', args: argv.slice(2) };
  }
  if (name === '@anthropic-ai/claude-code' || name === 'claude' || name === 'claude.exe') return { name: 'claude', args: argv.slice(i) };
  if (name === 'skills') return { name: 'skills', args: argv.slice(i) };
  return null;
}

/** `skills remove|rm|r` that would take out send or xmpp_send (named, `*`, --all, or picked interactively). */
function skillsCli(args: string[]): string | null {
  const sub = args.find((a) => !a.startsWith('-'));
  if (sub !== 'remove' && sub !== 'rm' && sub !== 'r') return null;
  const rest = args.slice(args.indexOf(sub) + 1);
  const shown = `\`skills ${args.join(' ')}\``;
  if (rest.includes('--all')) return shown;
  const words = rest.flatMap((a) => (a.startsWith('--skill=') ? a.slice(8) : a.startsWith('-') ? '' : a).split(',')).filter(Boolean);
  if (words.length === 0 || words.some((w) => w === '*' || SKILL_NAMES.includes(w.toLowerCase()))) return shown;
  return null;
}

/** Commands that only search text: a bypass variable named in their pattern sets nothing. */
const SEARCHERS = new Set(['grep', 'egrep', 'fgrep', 'rg', 'ag', 'ack', 'git', 'less', 'cat', 'head', 'tail']);

/** A hook-bypass variable this command sets: as a NAME=value prefix, `env NAME=value`, export/declare, or in text it writes (an rc file line, a script). */
function bypassIn(c: SimpleCommand): string | null {
  for (const [name] of c.assignments) if (HOOK_BYPASS_ENV.includes(name)) return name;
  const name = c.argv[0] ? basename(c.argv[0]) : '';
  if (SEARCHERS.has(name) && !c.redirects.some((r) => WRITE_REDIRECTS.has(r.op))) return null;
  const text = [...c.argv, ...c.redirects.map((r) => r.text ?? '')].join('\n');
  const match = BYPASS_ASSIGNMENT.exec(text);
  return match ? match[1] ?? match[2] ?? match[3] ?? null : null;
}

/** The working directories a command line can run its commands in: the hook's cwd and every `cd`/`pushd` target. */
function workingDirs(parsed: ParsedCommandLine, ctx: GuardContext): string[] {
  const dirs = [resolve(ctx.cwd)];
  for (const c of parsed.commands) {
    const name = c.argv[0] ? basename(c.argv[0]) : '';
    if (name !== 'cd' && name !== 'pushd') continue;
    const target = c.argv.slice(1).find((a) => !a.startsWith('-'));
    const text = target === undefined ? '~' : displayWord(target).replace(/^\$\{?HOME\}?(?=\/|$)/, '~');
    if (text.includes('$')) continue;
    for (const base of [...dirs]) dirs.push(resolve(base, expandHome(text, ctx)));
  }
  return unique(dirs).slice(0, 8);
}

/* ------------------------------------------------------------------------------------------ */
/* Entry                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/**
 * What this tool call would change of sendgate's hook configuration (for the deny reason), or
 * null. `parsed` is the parsed Bash command (Bash only).
 */
export function configChange(toolName: string, toolInput: Record<string, unknown>, ctx: GuardContext, parsed?: ParsedCommandLine): string | null {
  switch (toolName) {
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
    case 'NotebookEdit':
      return fileToolProblem(toolName, toolInput, ctx);
    case 'Bash': {
      if (!parsed) return null;
      const command = String(toolInput.command ?? '');
      return new BashCheck(command, ctx, workingDirs(parsed, ctx)).check(parsed);
    }
    default:
      return null;
  }
}
