/**
 * The egress verdict for a Bash command, a WebFetch URL or an MCP tool's input: parse
 * (shell.ts), detect (detect.ts), then judge every destination with the same network logic the
 * senders use (checkHost, the policy's allow/deny lists) and every byte that would leave (the
 * command line, uploaded files, what is piped in) with the secret scanner.
 *
 *   bash_egress: guard      internal-network destinations, secrets, credential files, DNS exfiltration
 *   bash_egress: allowlist  the same, plus every destination must be on destinations.allow
 *   bash_egress: off        nothing is checked
 *
 * destinations.deny applies in guard and allowlist modes. In guard mode a name that does not
 * resolve (or resolves too slowly) is not by itself a reason to deny. Reasons never quote a
 * secret, a URL path or query: only tool, host and port, and masked findings.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { Policy } from '../config/schema.ts';
import { compilePatterns } from '../guards/destination.ts';
import { checkHost } from '../guards/network.ts';
import type { Lookup, ResolveOverrides } from '../network/resolve.ts';
import { classifyAddress } from '../network/classify.ts';
import { internalName } from '../network/special-names.ts';
import { normalizeHost } from '../target/host.ts';
import { matchAddress, matchServer, matchUrl, type Pattern } from '../target/patterns.ts';
import { curlOptions, detectEgress, inflow, parseUrlArg, urlsInText, type CommandEgress, type Destination } from './detect.ts';
import { basename, displayWord, feeders, parseCommandLine, SUBST, UNKNOWN, variablesIn, type ParsedCommandLine } from './shell.ts';

export type EgressCode =
  | 'NETWORK_INTERNAL'
  | 'DESTINATION_NOT_ALLOWED'
  | 'DESTINATION_DENIED'
  | 'SECRET_IN_PAYLOAD'
  | 'DNS_EXFILTRATION'
  | 'EGRESS_UNINSPECTABLE';

export interface SecretFinding {
  /** What kind of secret ("GitHub token", "private key"...). */
  kind: string;
  /** Masked form, safe to show. */
  masked: string;
}

/** The payload scanner (src/secrets/scan.ts) as the egress checker needs it. */
export type SecretScanner = (text: string) => SecretFinding[];

export interface EgressDeps {
  lookup: Lookup;
  overrides?: ResolveOverrides;
  /** Per-name DNS budget; a slower answer counts as "does not resolve". Default 1500 ms. */
  lookupTimeoutMs?: number;
  cwd: string;
  home: string;
  scanSecrets: SecretScanner;
  /** Bounded file read; null when missing or not a regular file. Default: node:fs. */
  readFile?: (path: string, maxBytes: number) => string | null;
}

export interface EgressVerdict {
  deny: boolean;
  code?: EgressCode;
  /** Masked, one line, names the tool and host: safe to show the model and the user. */
  reason?: string;
  /** Whether anything that leaves the machine was found (audit these commands). */
  egress: boolean;
  /** "curl -> example.com:443" per destination, for the audit log. */
  summary: string[];
}

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_DESTINATIONS = 48;
const MAX_FILES = 32;

const PASS_NONE: EgressVerdict = { deny: false, egress: false, summary: [] };

/* ------------------------------------------------------------------------------------------ */
/* Entry points                                                                                */
/* ------------------------------------------------------------------------------------------ */

export async function checkBashCommand(command: string, policy: Policy, deps: EgressDeps): Promise<EgressVerdict> {
  if (policy.bash_egress === 'off') return PASS_NONE;
  const parsed = parseCommandLine(command);
  return checkParsed(command, parsed, policy, deps);
}

export async function checkParsed(text: string, parsed: ParsedCommandLine, policy: Policy, deps: EgressDeps): Promise<EgressVerdict> {
  if (policy.bash_egress === 'off') return PASS_NONE;
  const found = detectEgress(parsed);
  const bounded = parsed.problems.filter((problem) => !problem.startsWith('unterminated'));
  if (bounded.length > 0) {
    return deny('EGRESS_UNINSPECTABLE', `the command is too large or too deeply nested to inspect (${bounded[0]}); split it into simpler commands`, found);
  }
  if (found.length === 0) return PASS_NONE;
  const reader = deps.readFile ?? readBounded;

  // Config and list files add destinations and uploads (curl -K, wget -i, xargs lists).
  for (const item of found) expandConfigFiles(item, deps, reader);
  for (const item of found) expandGitRemotes(item, deps, reader);

  const summary = found.flatMap((item) => item.destinations.map(describeDestination));

  // 1. The command line itself: a secret written into an egress command leaves with it.
  const inline = deps.scanSecrets(text);
  if (inline.length > 0) {
    return deny('SECRET_IN_PAYLOAD', `the command sends data with ${found[0]!.tool} and its text contains ${describeFindings(inline)}; never put secrets in a command line (use an environment variable the user set)`, found, summary);
  }

  // 2. What leaves: uploaded files, piped input, the environment.
  for (const item of found) {
    const verdict = checkData(item, deps, reader);
    if (verdict) return { ...verdict, summary };
  }

  // 3. DNS names that carry data.
  for (const item of found) {
    for (const name of item.dnsNames) {
      const why = dataBearingName(name);
      if (why) return deny('DNS_EXFILTRATION', `${item.tool} would look up a name that carries data (${why}); DNS lookups can leak data to whoever runs the domain`, found, summary);
    }
  }

  // 4. Destinations.
  const destinations = found.flatMap((item) => item.destinations);
  if (destinations.length > MAX_DESTINATIONS) {
    return deny('EGRESS_UNINSPECTABLE', `the command contacts more than ${MAX_DESTINATIONS} destinations; split it up`, found, summary);
  }
  const verdict = await checkDestinations(destinations, policy, deps);
  if (verdict) return { ...verdict, egress: true, summary };
  return { deny: false, egress: true, summary };
}

/** WebFetch and similar URL tools. */
export async function checkUrl(url: string, tool: string, policy: Policy, deps: EgressDeps): Promise<EgressVerdict> {
  if (policy.bash_egress === 'off') return PASS_NONE;
  const destination = parseUrlArg(url, 'https', tool, 'URL');
  if (!destination) return deny('EGRESS_UNINSPECTABLE', `${tool}: the URL cannot be read`, []);
  const secrets = deps.scanSecrets(url);
  if (secrets.length) return deny('SECRET_IN_PAYLOAD', `${tool}: the URL contains ${describeFindings(secrets)}`, [], [describeDestination(destination)]);
  const why = dataBearingName(destination.host);
  if (why) return deny('DNS_EXFILTRATION', `${tool}: the host name carries data (${why})`, [], [describeDestination(destination)]);
  const verdict = await checkDestinations([destination], policy, deps);
  return verdict ? { ...verdict, egress: true, summary: [describeDestination(destination)] } : { deny: false, egress: true, summary: [describeDestination(destination)] };
}

/** An MCP tool the policy lists: every URL or host-like field in its input, and secrets in all of it. */
export async function checkToolInput(tool: string, input: unknown, policy: Policy, deps: EgressDeps): Promise<EgressVerdict> {
  if (policy.bash_egress === 'off') return PASS_NONE;
  const strings: Array<{ key: string; value: string }> = [];
  if (!collectStrings(input, '', strings, 0)) {
    // What cannot be read whole cannot be cleared: fail closed rather than pass an unread remainder.
    return deny('EGRESS_UNINSPECTABLE', `${tool}: the input is nested deeper than ${MAX_INPUT_DEPTH} levels or holds more than ${MAX_INPUT_STRINGS} strings, so it cannot be inspected whole`, []);
  }
  const destinations: Destination[] = [];
  for (const { key, value } of strings) {
    const urls = urlsInText(value, tool, key || 'input');
    destinations.push(...urls);
    if (urls.length === 0 && /(^|[._-])(host|hostname|server|address|endpoint|domain)$/i.test(key) && /^[\w.:[\]-]+$/.test(value)) {
      const d = parseUrlArg(value, 'tcp', tool, key);
      if (d) destinations.push(d);
    }
  }
  const text = strings.map((entry) => entry.value).join('\n');
  const summary = destinations.map(describeDestination);
  const secrets = deps.scanSecrets(text);
  if (secrets.length) return deny('SECRET_IN_PAYLOAD', `${tool}: the input contains ${describeFindings(secrets)}`, [], summary);
  if (destinations.length > MAX_DESTINATIONS) return deny('EGRESS_UNINSPECTABLE', `${tool}: more than ${MAX_DESTINATIONS} destinations in the input`, [], summary);
  const verdict = await checkDestinations(destinations, policy, deps);
  return verdict ? { ...verdict, egress: true, summary } : { deny: false, egress: destinations.length > 0, summary };
}

/* ------------------------------------------------------------------------------------------ */
/* Data                                                                                        */
/* ------------------------------------------------------------------------------------------ */

function checkData(item: CommandEgress, deps: EgressDeps, reader: NonNullable<EgressDeps['readFile']>): EgressVerdict | null {
  const flows = item.sendsStdin ? inflow(item.command) : inflow({ ...item.command, stdinFrom: [] });
  if (flows.environment) {
    return deny('SECRET_IN_PAYLOAD', `${item.tool} would send the output of \`${flows.environment.slice(0, 40)}\` (the environment, where credentials live)`, [item]);
  }
  const piped = item.sendsStdin ? pipedSecretVariable(item) : null;
  if (piped) {
    return deny('SECRET_IN_PAYLOAD', `${item.tool} would send the value of $${piped} (a credential variable) as its payload`, [item]);
  }
  const files = [
    ...item.uploads.map((upload) => ({ path: upload.path, how: `${item.tool} ${upload.via}` })),
    ...flows.files.map((file) => ({ path: file.path, how: `${file.by} | ${item.tool}` })),
  ];
  for (const file of files.slice(0, MAX_FILES)) {
    const visible = displayWord(file.path);
    const sensitive = sensitivePath(visible);
    if (sensitive) {
      return deny('SECRET_IN_PAYLOAD', `${file.how}: would send ${displayPath(visible)}, ${sensitive}`, [item]);
    }
    if (/[\u0001\u0002*?]/.test(file.path)) continue;
    const full = expandPath(file.path, deps);
    const content = reader(full, MAX_FILE_BYTES);
    if (content === null) continue;
    const findings = deps.scanSecrets(content);
    if (findings.length) {
      return deny('SECRET_IN_PAYLOAD', `${file.how}: would send ${displayPath(visible)}, which contains ${describeFindings(findings)}`, [item]);
    }
  }
  if (files.length > MAX_FILES) return deny('EGRESS_UNINSPECTABLE', `${item.tool} would send more than ${MAX_FILES} files; send fewer at a time`, [item]);
  return null;
}

const SENSITIVE: Array<[RegExp, string]> = [
  [/(^|\/)\.ssh(\/(?!.*\.pub$)(?!known_hosts)(?!config$)[^/]*)?\/?$/, 'an SSH private key or key directory'],
  [/(^|\/)id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/, 'an SSH private key'],
  [/(^|\/)\.aws(\/|$)/, 'AWS credentials'],
  [/(^|\/)\.azure(\/|$)/, 'Azure credentials'],
  [/(^|\/)\.config\/gcloud(\/|$)/, 'Google Cloud credentials'],
  [/(^|\/)\.kube\/config$|(^|\/)kubeconfig$/, 'Kubernetes credentials'],
  [/(^|\/)\.docker\/config\.json$/, 'Docker registry credentials'],
  [/(^|\/)(\.netrc|_netrc|\.pgpass|\.my\.cnf|\.git-credentials|\.npmrc|\.pypirc|\.vault-token|\.htpasswd|\.s3cfg|\.boto)$/, 'a credentials file'],
  [/(^|\/)\.gnupg(\/|$)|(^|\/)\.password-store(\/|$)/, 'a key store'],
  [/(^|\/)\.env(\.(?!example$|sample$|template$|dist$|defaults$)[\w.-]+)?$/, 'an environment file (secrets)'],
  [/\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk|asc|gpg)$/i, 'a key or certificate store'],
  [/(^|\/)(credentials|service[-_]?account[\w-]*|client_secret[\w-]*)\.json$/i, 'a credentials file'],
  [/(^|\/)secrets?\.(ya?ml|json|toml|env)$/i, 'a secrets file'],
  [/(^|\/)terraform\.tfstate(\.backup)?$/, 'Terraform state (holds secrets)'],
  [/(^|\/)\.config\/gh\/hosts\.yml$|(^|\/)\.claude\/\.credentials\.json$|(^|\/)\.config\/hub$/, 'CLI credentials'],
  [/^\/etc\/(shadow|gshadow|sudoers|master\.passwd)$|^\/etc\/ssh\/ssh_host_\w+_key$/, 'a system credential file'],
  [/^\/etc\/passwd$/, 'the system account list'],
  [/^\/proc\/(self|\d+|\*)\/environ$/, 'a process environment'],
  [/(^|\/)\.(bash|zsh|sh|python|node_repl|psql|mysql)_history$|(^|\/)\.history$/, 'a shell history'],
  [/(^|\/)\.local\/state\/sendgate(\/|$)/, "sendgate's state"],
  [/(^|\/)wallet\.dat$|(^|\/)\.bitcoin(\/|$)|(^|\/)keystore\/UTC--/, 'a wallet'],
];

/** Why a path is a credential store, or null. */
export function sensitivePath(path: string): string | null {
  const clean = path.replace(/\/+$/, '') || path;
  for (const [pattern, why] of SENSITIVE) if (pattern.test(clean) || pattern.test(path)) return why;
  return null;
}

function displayPath(path: string): string {
  return path.length > 80 ? `…${path.slice(-79)}` : path;
}

function expandPath(path: string, deps: EgressDeps): string {
  if (path === '~') return deps.home;
  if (path.startsWith('~/')) return join(deps.home, path.slice(2));
  const user = /^~([a-z_][\w-]*)(\/.*)?$/.exec(path);
  if (user) return join(user[1] === 'root' ? '/root' : `/home/${user[1]}`, user[2] ?? '');
  return isAbsolute(path) ? path : resolvePath(deps.cwd, path);
}

export function readBounded(path: string, maxBytes: number): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buffer = Buffer.alloc(maxBytes);
    let length = 0;
    while (length < maxBytes) {
      const n = readSync(fd, buffer, length, maxBytes - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function describeFindings(findings: SecretFinding[]): string {
  const first = findings[0]!;
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more finding${findings.length > 2 ? 's' : ''})` : '';
  return `what looks like ${/^[aeiou]/i.test(first.kind) ? 'an' : 'a'} ${first.kind} (${first.masked})${more}`;
}

/* ------------------------------------------------------------------------------------------ */
/* Config files, git remotes                                                                   */
/* ------------------------------------------------------------------------------------------ */

function expandConfigFiles(item: CommandEgress, deps: EgressDeps, reader: NonNullable<EgressDeps['readFile']>): void {
  // xargs reading its items from a file: the items are arguments (often URLs), not uploaded data.
  if (item.command.wrappers.some((w) => w.startsWith('xargs'))) {
    for (const wrapper of item.command.wrappers) {
      const m = /^xargs -a (.+)$/.exec(wrapper);
      if (m) item.configFiles.push({ path: m[1]!, format: 'urls' });
    }
    for (const r of item.command.redirects) if (r.op === '<') item.configFiles.push({ path: r.target, format: 'urls' });
  }
  for (const config of item.configFiles.splice(0, 8)) {
    if (config.path.includes(UNKNOWN) || config.path.includes(SUBST)) continue;
    const text = reader(expandPath(config.path, deps), 256 * 1024);
    if (text === null) continue;
    // The config's own text leaves with the request (headers, data, user:password).
    item.uploads.push({ tool: item.tool, path: config.path, via: config.format === 'curl' ? '-K config' : 'list' });
    if (config.format === 'urls') {
      for (const line of text.split('\n').slice(0, 200)) {
        const word = line.trim().split(/\s+/)[0] ?? '';
        if (!word || word.startsWith('#')) continue;
        const d = parseUrlArg(word, /^[\w.-]+\.[a-z]{2,}(:\d+)?(\/|$)|^\d+\.\d+\.\d+\.\d+/i.test(word) || word.includes('://') ? 'http' : null, item.tool, `URL from ${config.path}`);
        if (d) item.destinations.push(d);
      }
      continue;
    }
    const opts: Array<[string, string | true]> = [];
    const urls: string[] = [];
    for (const raw of text.split('\n').slice(0, 500)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const m = /^(-{0,2}[\w.-]+)\s*[=:\s]\s*(.*)$/.exec(line) ?? /^(-{0,2}[\w.-]+)$/.exec(line);
      if (!m) continue;
      let name = m[1]!;
      let value = (m[2] ?? '').trim();
      if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      if (!name.startsWith('-')) name = `--${name}`;
      if (name.length === 2) name = ({ '-d': '--data', '-F': '--form', '-T': '--upload-file', '-H': '--header', '-x': '--proxy', '-K': '--config', '-u': '--user' } as Record<string, string>)[name] ?? name;
      if (name === '--url') urls.push(value);
      else opts.push([name, value === '' ? true : value]);
    }
    const nested: CommandEgress = { ...item, destinations: [], uploads: [], configFiles: [] };
    curlOptions(nested, opts, urls, false);
    item.destinations.push(...nested.destinations.map((d) => ({ ...d, via: `${d.via} in ${config.path}` })));
    item.uploads.push(...nested.uploads);
    if (nested.sendsStdin) item.sendsStdin = true;
  }
}

function expandGitRemotes(item: CommandEgress, deps: EgressDeps, reader: NonNullable<EgressDeps['readFile']>): void {
  if (item.gitRemotes.length === 0) return;
  const text = reader(join(deps.cwd, '.git', 'config'), 256 * 1024);
  if (text === null) return;
  let section: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[remote\s+"([^"]+)"\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    if (line.startsWith('[')) {
      section = null;
      continue;
    }
    const url = /^(?:push)?url\s*=\s*(.+)$/.exec(line);
    if (section && url && item.gitRemotes.includes(section)) {
      const value = url[1]!.trim();
      const d = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? parseUrlArg(value, null, 'git', `remote ${section}`) : /^(?:[^@/:]+@)?([^/:@]+):/.exec(value) ? { tool: 'git', scheme: 'ssh', host: /^(?:[^@/:]+@)?([^/:@]+):/.exec(value)![1]!, port: 22, url: null, via: `remote ${section}` } : null;
      if (d) item.destinations.push(d);
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Destinations                                                                                */
/* ------------------------------------------------------------------------------------------ */

/** Variable names that hold credentials by convention. */
const SECRET_VARIABLE = /(SECRET|TOKEN|PASSW(OR)?D|PASSPHRASE|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH|SESSION_?KEY|_PAT$|^PAT$|_KEY$)/i;

/** A credential variable echoed, printf'd or here-string'd into a command that sends its stdin. */
function pipedSecretVariable(item: CommandEgress): string | null {
  const texts: string[] = [];
  for (const r of item.command.redirects) {
    if (r.op === '<<<') texts.push(r.text ?? '');
    else if ((r.op === '<<' || r.op === '<<-') && r.text) texts.push(r.text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, `${UNKNOWN}$1\u0003`));
  }
  for (const source of feeders({ ...item.command, substitutions: [] })) {
    const name = source.argv[0] ? basename(source.argv[0]) : '';
    if (name === 'echo' || name === 'printf' || name === 'cat' || name === 'tee') texts.push(...source.argv.slice(1));
    for (const r of source.redirects) if (r.op === '<<<') texts.push(r.text ?? '');
  }
  for (const text of texts) {
    const found = variablesIn(text).find((name) => SECRET_VARIABLE.test(name));
    if (found) return found;
  }
  return null;
}

/** A host only partly known: a private IPv4 prefix ("192.168.1.$i") or an internal suffix ("$h.internal"). */
function partialHostVerdict(d: Destination, policy: Policy): EgressVerdict | null {
  if (policy.network.allow_private.length > 0) return null;
  const host = d.host;
  const prefix = /^((?:\d{1,3}\.){1,3})\u0001/.exec(host);
  if (prefix) {
    const known = prefix[1]!.split('.').filter(Boolean);
    const fill = (n: string) => [...known, ...Array(4 - known.length).fill(n)].join('.');
    try {
      const low = classifyAddress(fill('1'));
      const high = classifyAddress(fill('254'));
      if (!low.global && !high.global && low.range === high.range) {
        return deny('NETWORK_INTERNAL', `${describeDestination(d)}: every address ${prefix[1]}* is in a ${low.range} range; only public destinations are reachable unless the operator opens the range in network.allow_private`, []);
      }
    } catch {
      return null;
    }
  }
  const suffix = /\u0003((?:\.[a-z0-9-]+)+)$/i.exec(host);
  if (suffix) {
    const reason = internalName(`x${suffix[1]!.toLowerCase()}`);
    if (reason && reason.startsWith('special-use')) return deny('NETWORK_INTERNAL', `${describeDestination(d)}: a host under ${suffix[1]} is a ${reason}`, []);
  }
  return null;
}

export function describeDestination(d: Destination): string {
  const host = displayWord(d.host);
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${d.tool} -> ${d.scheme === 'mailto' ? `mail to @${shown}` : `${shown}${d.port ? `:${d.port}` : ''}`}`;
}

async function checkDestinations(destinations: Destination[], policy: Policy, deps: EgressDeps): Promise<EgressVerdict | null> {
  const allowlist = policy.bash_egress === 'allowlist';
  const allow = compilePatterns(policy.destinations.allow);
  const denyList = compilePatterns(policy.destinations.deny);
  const toResolve: Array<{ d: Destination; host: string }> = [];
  const seen = new Set<string>();
  for (const d of destinations) {
    const label = describeDestination(d);
    if (d.host.includes(SUBST)) {
      return deny('DNS_EXFILTRATION', `${d.tool} would contact a host computed from another command's output (${label}); that leaks the output through DNS`, []);
    }
    if (d.host.includes(UNKNOWN)) {
      const partial = partialHostVerdict(d, policy);
      if (partial) return partial;
      if (allowlist) return deny('DESTINATION_NOT_ALLOWED', `${label}: the host is only known at run time, so it cannot be checked against destinations.allow`, []);
      continue;
    }
    if (d.scheme === 'mailto') {
      const address = (d.url ?? '').replace(/^mailto:/, '').toLowerCase();
      const denied = denyList.find((p) => matchAddress(p, address, 'mailto'));
      if (denied) return deny('DESTINATION_DENIED', `${label} matches the deny list entry "${denied.source}"`, []);
      if (allowlist && !allow.some((p) => matchAddress(p, address, 'mailto'))) {
        return deny('DESTINATION_NOT_ALLOWED', `${label} is not on the allowlist (destinations.allow); ask the user to add it to the policy if it should be reachable`, []);
      }
      continue;
    }
    const normalized = normalizeHost(d.host.replace(/%.*$/, '').replace(/^\[|\]$/g, '')) ?? (d.host.includes('%') ? { host: d.host, kind: 'ipv6' as const } : null);
    if (!normalized) {
      if (allowlist) return deny('DESTINATION_NOT_ALLOWED', `${label}: not a host name that can be checked against destinations.allow`, []);
      continue;
    }
    const why = normalized.kind === 'name' ? dataBearingName(normalized.host) : null;
    if (why) return deny('DNS_EXFILTRATION', `${d.tool} would contact a host name that carries data (${why})`, []);
    const listVerdict = checkLists(d, normalized.host, allow, denyList, allowlist);
    if (listVerdict) return listVerdict;
    if (normalized.kind === 'name' && policy.network.allow_private.length === 0) {
      const reason = internalName(normalized.host);
      if (reason) return deny('NETWORK_INTERNAL', `${describeDestination({ ...d, host: normalized.host })}: ${normalized.host} is ${reason === 'localhost' ? 'the loopback host' : `a ${reason}`}; only public destinations are reachable unless the operator opens the range in network.allow_private`, []);
    }
    const key = `${normalized.kind}:${normalized.host}`;
    if (!seen.has(key)) {
      seen.add(key);
      toResolve.push({ d: { ...d, host: normalized.host }, host: normalized.host });
    }
  }
  // Literals first (no I/O), then names, resolved in parallel under a time budget.
  const timeout = deps.lookupTimeoutMs ?? 1500;
  const lookup: Lookup = (host) => withTimeout(deps.lookup(host), timeout);
  const results = await Promise.all(
    toResolve.map(async ({ d, host }) => {
      const kind = normalizeHost(host)!.kind;
      const verdict = await checkHost(host, kind, policy, { lookup, overrides: deps.overrides ?? new Map() });
      return { d, verdict };
    }),
  );
  for (const { d, verdict } of results) {
    if (verdict.ok) continue;
    if (verdict.constraint.code === 'DNS_FAILED') continue; // guard mode: an unresolvable name is not by itself a deny
    return deny('NETWORK_INTERNAL', `${describeDestination(d)}: ${verdict.constraint.reason}`, []);
  }
  return null;
}

function checkLists(d: Destination, host: string, allow: Pattern[], denyList: Pattern[], allowlist: boolean): EgressVerdict | null {
  let url: URL | null = null;
  if (d.url && /^(https?|wss?):/i.test(d.url)) {
    try {
      url = new URL(d.url.replace(/^ws/i, 'http'));
    } catch {
      url = null;
    }
  }
  const port = d.port ?? 0;
  const matches = (pattern: Pattern): boolean => {
    if (url && (pattern.kind === 'url-prefix' || (pattern.kind === 'host' && pattern.scheme === 'any'))) return matchUrl(pattern, url);
    if (pattern.kind === 'host') return matchServer(pattern, host, port);
    return false;
  };
  const label = describeDestination({ ...d, host });
  const denied = denyList.find(matches);
  if (denied) return deny('DESTINATION_DENIED', `${label} matches the deny list entry "${denied.source}"`, []);
  if (allowlist && !allow.some(matches)) {
    return deny('DESTINATION_NOT_ALLOWED', `${label} is not on the allowlist (destinations.allow; bash_egress: allowlist); ask the user to add it to the policy if it should be reachable`, []);
  }
  return null;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), ms);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/* ------------------------------------------------------------------------------------------ */
/* DNS names that carry data                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Why a DNS name looks like it carries data (exfiltration through lookups), or null. */
export function dataBearingName(name: string): string | null {
  if (name.includes(SUBST)) return 'part of the name is the output of another command';
  const host = name.replace(/\.$/, '');
  if (/^[\d.]+$/.test(host) || host.includes(':')) return null; // addresses
  if (host.includes(UNKNOWN)) return null;
  if (host.length > 120) return `the name is ${host.length} characters long`;
  const labels = host.split('.');
  // The registrable part (last two labels) is the attacker's domain; inspect what precedes it.
  for (const label of labels.slice(0, -2)) {
    if (label.length >= 40) return `a ${label.length}-character label`;
    if (label.length >= 16 && /^[0-9a-f]+$/i.test(label) && /\d/.test(label) && /[a-f]/i.test(label)) return 'a hex-encoded label';
    if (label.length >= 20 && /^[A-Za-z0-9_-]+$/.test(label) && /[A-Z]/.test(label) && /[a-z]/.test(label) && /\d/.test(label)) return 'a base64-like label';
    if (label.length >= 24 && /^[a-z2-7]+$/.test(label) && /[2-7]/.test(label) && (label.match(/[2-7]/g)?.length ?? 0) >= 3) return 'a base32-like label';
  }
  const longLabels = labels.slice(0, -2).filter((label) => label.length >= 24);
  if (longLabels.length >= 2) return 'several long labels';
  return null;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

function deny(code: EgressCode, reason: string, found: CommandEgress[], summary: string[] = found.flatMap((item) => item.destinations.map(describeDestination))): EgressVerdict {
  return { deny: true, code, reason: oneLine(reason), egress: true, summary };
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 600);
}

const MAX_INPUT_DEPTH = 12;
const MAX_INPUT_STRINGS = 2000;

/** Every string in a tool input, with its key. False when the input is too deep or too large to read whole. */
function collectStrings(value: unknown, key: string, out: Array<{ key: string; value: string }>, depth: number): boolean {
  if (depth > MAX_INPUT_DEPTH || out.length > MAX_INPUT_STRINGS) return false;
  if (typeof value === 'string') out.push({ key, value });
  else if (Array.isArray(value)) return value.every((item) => collectStrings(item, key, out, depth + 1));
  else if (value && typeof value === 'object') return Object.entries(value).every(([k, v]) => collectStrings(v, k, out, depth + 1));
  return true;
}
