/**
 * Egress detection: for each simple command (src/egress/shell.ts), what it would contact and what
 * local data it would send. Pure: no DNS, no file reads (files to read are reported, check.ts
 * reads them). One extractor per tool family; an unknown command is still searched for URLs with
 * a network scheme (psql postgres://..., aws --endpoint-url http://...), except commands that only
 * print or search text (echo, grep, sed, ...), whose URLs are data, not connections.
 */
import { basename, feeders, SUBST, UNKNOWN, type ParsedCommandLine, type SimpleCommand } from './shell.ts';

export interface Destination {
  tool: string;
  /** Network scheme: http, https, ftp, ssh, tcp, udp, dns, smtp, ws, postgres, ... */
  scheme: string;
  /** The host as written (name, IPv4, IPv6 without brackets); may hold UNKNOWN / SUBST markers. */
  host: string;
  port: number | null;
  /** The full URL when there is one (http(s), ws(s), ftp): the allowlist's URL prefixes match it. */
  url: string | null;
  /** How it was found, for the reason text: "URL", "--proxy", "-connect", "/dev/tcp", ... */
  via: string;
}

export interface Upload {
  tool: string;
  /** A local path as written (~ and relative paths are resolved by the checker); "-" = stdin. */
  path: string;
  via: string;
}

export interface CommandEgress {
  tool: string;
  command: SimpleCommand;
  destinations: Destination[];
  /** Local files whose contents leave the machine. */
  uploads: Upload[];
  /** Names looked up in DNS (dig, nslookup, host, ping ...): checked for data-bearing labels. */
  dnsNames: string[];
  /** The command sends what it reads on stdin (pipe, redirect, here-document). */
  sendsStdin: boolean;
  /** Files to read for more destinations and uploads: curl -K, wget -i, xargs -a / < list. */
  configFiles: Array<{ path: string; format: 'curl' | 'urls' }>;
  /** Remote names to look up in the repository's .git/config (git push origin). */
  gitRemotes: string[];
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

const NETWORK_SCHEMES = new Set([
  'http', 'https', 'ftp', 'ftps', 'sftp', 'scp', 'ssh', 'telnet', 'ws', 'wss', 'gopher', 'gophers', 'dict', 'ldap', 'ldaps', 'smb', 'smbs', 'tftp',
  'rtsp', 'rtmp', 'mqtt', 'mqtts', 'redis', 'rediss', 'postgres', 'postgresql', 'mysql', 'mariadb', 'mongodb', 'mongodb+srv', 'amqp', 'amqps', 'nats',
  'kafka', 'imap', 'imaps', 'pop3', 'pop3s', 'smtp', 'smtps', 'git', 'git+ssh', 'ssh+git', 'git+https', 'svn', 'svn+ssh', 'rsync', 'xmpp', 'irc', 'ircs',
  'socks4', 'socks4a', 'socks5', 'socks5h', 'tcp', 'udp', 'grpc', 'grpcs', 'h2', 'h2c', 'jdbc:postgresql', 'jdbc:mysql', 'clickhouse', 'cassandra',
  'couchdb', 'elasticsearch', 'memcached', 'zk', 'etcd', 'consul', 'vault', 'nfs', 'cifs', 'afp', 'vnc', 'rdp', 'sip', 'mms', 'webdav', 'davs', 'dav',
]);
const DEFAULT_PORTS: Record<string, number> = {
  http: 80, https: 443, ws: 80, wss: 443, ftp: 21, ftps: 990, sftp: 22, scp: 22, ssh: 22, telnet: 23, gopher: 70, dict: 2628, ldap: 389, ldaps: 636,
  smb: 445, tftp: 69, rtsp: 554, mqtt: 1883, mqtts: 8883, redis: 6379, rediss: 6379, postgres: 5432, postgresql: 5432, mysql: 3306, mariadb: 3306,
  mongodb: 27017, amqp: 5672, amqps: 5671, nats: 4222, imap: 143, imaps: 993, pop3: 110, pop3s: 995, smtp: 587, smtps: 465, git: 9418, rsync: 873,
  xmpp: 5222, irc: 6667, ircs: 6697, socks4: 1080, socks4a: 1080, socks5: 1080, socks5h: 1080,
};

/** scheme://[user[:pass]@]host[:port][/...] found anywhere in a text (generic extraction). */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]{1,20}):\/\/(?:[^\s'"`<>()\\/@]*@)?(\[[0-9a-fA-F:.%\w]+\]|[^\s'"`<>()\\/:?#,;]+)(?::(\d{1,5}))?([^\s'"`<>()\\]*)/gi;

/** Parses a URL-ish argument: scheme://host..., or host[:port][/path] with a default scheme. */
export function parseUrlArg(text: string, defaultScheme: string | null, tool: string, via: string): Destination | null {
  const value = text.trim();
  if (!value) return null;
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  let scheme: string;
  let rest: string;
  if (schemeMatch) {
    scheme = schemeMatch[1]!.toLowerCase();
    if (!NETWORK_SCHEMES.has(scheme)) return null;
    rest = value.slice(schemeMatch[0].length);
  } else {
    if (!defaultScheme) return null;
    scheme = defaultScheme;
    rest = value;
  }
  // authority ends at the first / ? # (a backslash too: clients disagree, treat it as the end)
  const end = rest.search(/[/?#\\]/);
  let authority = end >= 0 ? rest.slice(0, end) : rest;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close > 0 ? authority.slice(1, close) : authority.slice(1);
    const after = close > 0 ? authority.slice(close + 1) : '';
    if (after.startsWith(':')) portText = after.slice(1);
  } else if ((authority.match(/:/g)?.length ?? 0) >= 2 && !schemeMatch) {
    host = authority; // a bare IPv6 literal
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  if (!host) return null;
  const port = portText && /^\d{1,5}$/.test(portText) ? Number(portText) : (DEFAULT_PORTS[scheme] ?? null);
  const isUrlScheme = ['http', 'https', 'ws', 'wss', 'ftp', 'ftps'].includes(scheme);
  const url = isUrlScheme ? (schemeMatch ? value : `${scheme}://${value}`) : null;
  return { tool, scheme, host, port, url, via };
}

/** Every scheme://host URL inside a text (code, option values, config). */
export function urlsInText(text: string, tool: string, via: string, limit = 64): Destination[] {
  const out: Destination[] = [];
  URL_IN_TEXT.lastIndex = 0;
  for (let m = URL_IN_TEXT.exec(text); m && out.length < limit; m = URL_IN_TEXT.exec(text)) {
    const d = parseUrlArg(m[0], null, tool, via);
    if (d) out.push(d);
  }
  return out;
}

/** host:port (IPv6 in brackets) */
function hostPort(text: string, tool: string, via: string, defaultPort: number | null, scheme = 'tcp'): Destination | null {
  const d = parseUrlArg(text, scheme, tool, via);
  if (!d) return null;
  if (d.port === null || d.port === DEFAULT_PORTS[scheme]) d.port = /:\d+$/.test(text) ? d.port : defaultPort;
  return d;
}

/** user@host:path or host:path (scp / rsync / git "scp-like" syntax), not a local path. */
function remoteSpec(text: string): { host: string; path: string } | null {
  if (text.startsWith('/') || text.startsWith('./') || text.startsWith('~')) return null;
  const m = /^(?:[^@/:]+@)?(\[[^\]]+\]|[^/:@]+):(.*)$/s.exec(text);
  if (!m) return null;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (!host || /^[A-Za-z]$/.test(host)) return null; // C:\path
  return { host, path: m[2]! };
}

/** Reads getopt-style options. Returns the operands and the values of options of interest. */
function getopt(
  args: string[],
  spec: { withValue: string; longWithValue: readonly string[]; stopAtFirstOperand?: boolean },
): { operands: string[]; options: Array<[string, string | true]> } {
  const operands: string[] = [];
  const options: Array<[string, string | true]> = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      if (eq >= 0) options.push([name, arg.slice(eq + 1)]);
      else if (spec.longWithValue.includes(name)) {
        options.push([name, args[i + 1] ?? '']);
        i++;
      } else options.push([name, true]);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d+$/.test(arg)) {
      for (let k = 1; k < arg.length; k++) {
        const letter = arg.charAt(k);
        if (spec.withValue.includes(letter)) {
          if (k < arg.length - 1) options.push([`-${letter}`, arg.slice(k + 1)]);
          else {
            options.push([`-${letter}`, args[i + 1] ?? '']);
            i++;
          }
          break;
        }
        options.push([`-${letter}`, true]);
      }
      continue;
    }
    operands.push(arg);
    if (spec.stopAtFirstOperand) {
      operands.push(...args.slice(i + 1));
      break;
    }
  }
  return { operands, options };
}

function values(options: Array<[string, string | true]>, ...names: string[]): string[] {
  return options.filter(([name, value]) => names.includes(name) && typeof value === 'string').map(([, value]) => value as string);
}

function has(options: Array<[string, string | true]>, ...names: string[]): boolean {
  return options.some(([name]) => names.includes(name));
}

function stdinRedirected(command: SimpleCommand): boolean {
  return command.redirects.some((r) => (r.fd === null || r.fd === 0) && (r.op === '<' || r.op === '<<' || r.op === '<<-' || r.op === '<<<' || r.op === '<>'));
}

function stdinFiles(command: SimpleCommand): string[] {
  return command.redirects.filter((r) => (r.fd === null || r.fd === 0) && (r.op === '<' || r.op === '<>')).map((r) => r.target);
}

function readsStdin(command: SimpleCommand): boolean {
  return command.stdinFrom.length > 0 || stdinRedirected(command);
}

/* ------------------------------------------------------------------------------------------ */
/* Tool tables                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/** Commands that only print, search, transform or manage local text: their URL arguments are data. */
const SILENT = new Set([
  'echo', 'printf', 'print', 'grep', 'egrep', 'fgrep', 'rg', 'ag', 'ack', 'sed', 'awk', 'cut', 'tr', 'sort', 'uniq', 'wc', 'head', 'tail', 'cat', 'tac',
  'less', 'more', 'jq', 'yq', 'tee', 'test', '[', '[[', 'true', 'false', ':', 'cd', 'pwd', 'ls', 'mkdir', 'rmdir', 'rm', 'cp', 'mv', 'touch', 'chmod',
  'chown', 'ln', 'diff', 'cmp', 'comm', 'patch', 'file', 'stat', 'du', 'df', 'ps', 'kill', 'pkill', 'sleep', 'date', 'which', 'type', 'whereis',
  'man', 'help', 'vi', 'vim', 'nvim', 'nano', 'emacs', 'code', 'read', 'set', 'unset', 'export', 'declare', 'local', 'readonly', 'alias', 'unalias',
  'history', 'basename', 'dirname', 'realpath', 'readlink', 'md5sum', 'sha1sum', 'sha256sum', 'sha512sum', 'base64', 'base32', 'xxd', 'od', 'hexdump',
  'column', 'fold', 'fmt', 'nl', 'paste', 'join', 'split', 'csplit', 'expand', 'unexpand', 'rev', 'strings', 'seq', 'yes', 'tput', 'clear', 'reset',
  'logger', 'wait', 'jobs', 'fg', 'bg', 'disown', 'trap', 'shift', 'return', 'exit', 'break', 'continue', 'source', '.', 'hash', 'ulimit', 'umask',
  'getopts', 'let', 'expr', 'bc', 'dc', 'tree', 'find', 'locate', 'xdg-open', 'open', 'mktemp', 'install', 'sync', 'tsc', 'eslint', 'prettier',
  'cowsay', 'figlet', 'notify-send', 'zenity', 'git-log', 'pbcopy', 'xclip', 'xsel', 'wl-copy', 'envsubst', 'gettext', 'iconv', 'dos2unix',
]);

/** git subcommands that talk to a remote, and where the repository argument is. */
const GIT_NETWORK = new Set(['push', 'pull', 'fetch', 'clone', 'ls-remote', 'remote', 'submodule', 'archive', 'request-pull', 'send-email']);

const INTERPRETERS: Record<string, { code: readonly string[]; multi?: boolean }> = {
  python: { code: ['-c'] }, python2: { code: ['-c'] }, python3: { code: ['-c'] }, pypy: { code: ['-c'] }, pypy3: { code: ['-c'] },
  node: { code: ['-e', '--eval', '-p', '--print'] }, nodejs: { code: ['-e', '--eval', '-p', '--print'] }, bun: { code: ['-e', '--eval', '-p', '--print'] },
  deno: { code: ['eval'] }, ruby: { code: ['-e'], multi: true }, perl: { code: ['-e', '-E'], multi: true }, php: { code: ['-r'] }, lua: { code: ['-e'] },
  luajit: { code: ['-e'] }, Rscript: { code: ['-e'] }, pwsh: { code: ['-c', '-Command', '-command'] }, powershell: { code: ['-c', '-Command', '-command'] },
  osascript: { code: ['-e'] }, tclsh: { code: [] }, groovy: { code: ['-e'] }, scala: { code: ['-e'] }, julia: { code: ['-e'] }, elixir: { code: ['-e'] },
};
const PYTHON_RE = /^(python|pypy)(\d+(\.\d+)?)?$/;

/* ------------------------------------------------------------------------------------------ */
/* Entry                                                                                       */
/* ------------------------------------------------------------------------------------------ */

export function detectEgress(parsed: ParsedCommandLine): CommandEgress[] {
  const found: CommandEgress[] = [];
  for (const command of parsed.commands) {
    const result = detectCommand(command);
    if (result && (result.destinations.length || result.uploads.length || result.dnsNames.length || result.configFiles.length || result.gitRemotes.length)) {
      found.push(result);
    }
  }
  return found;
}

function blank(tool: string, command: SimpleCommand): CommandEgress {
  return { tool, command, destinations: [], uploads: [], dnsNames: [], sendsStdin: false, configFiles: [], gitRemotes: [] };
}

export function detectCommand(command: SimpleCommand): CommandEgress | null {
  const result = detectByTool(command);
  // Bash's /dev/tcp and /dev/udp pseudo-files, in any redirection or argument.
  const devTcp = [...command.redirects.map((r) => r.target), ...command.argv].flatMap((word) => {
    const m = /^\/dev\/(tcp|udp)\/([^/]+)\/(\d+)/.exec(word);
    return m ? [{ tool: 'bash', scheme: m[1]!, host: m[2]!, port: Number(m[3]), url: null, via: `/dev/${m[1]}` } satisfies Destination] : [];
  });
  if (devTcp.length === 0) return result;
  const out = result ?? blank(command.argv[0] ? basename(command.argv[0]) : 'bash', command);
  out.destinations.push(...devTcp);
  // Whatever the command writes goes to the socket: its file arguments and its stdin.
  out.sendsStdin = true;
  for (const arg of command.argv.slice(1)) if (!arg.startsWith('-') && !arg.startsWith('/dev/')) out.uploads.push({ tool: out.tool, path: arg, via: '/dev/tcp' });
  for (const file of stdinFiles(command)) out.uploads.push({ tool: out.tool, path: file, via: '< file' });
  return out;
}

function detectByTool(command: SimpleCommand): CommandEgress | null {
  const argv = command.argv;
  if (argv.length === 0) return null;
  const tool = basename(argv[0]!);
  const args = argv.slice(1);
  switch (tool) {
    case 'curl':
      return curl(command, args);
    case 'wget':
    case 'wget2':
      return wget(command, tool, args);
    case 'aria2c':
    case 'axel':
    case 'lynx':
    case 'w3m':
    case 'links':
    case 'elinks':
    case 'websocat':
    case 'wscat':
    case 'grpcurl':
    case 'ab':
    case 'hey':
    case 'wrk':
    case 'siege':
      return genericUrls(command, tool, args, tool === 'grpcurl' ? 'tcp' : 'http');
    case 'nc':
    case 'ncat':
    case 'netcat':
    case 'nc.openbsd':
    case 'nc.traditional':
    case 'pwncat':
      return netcat(command, tool, args);
    case 'socat':
      return socat(command, args);
    case 'telnet':
      return telnet(command, args);
    case 'ssh':
    case 'autossh':
    case 'mosh':
      return ssh(command, tool, args);
    case 'scp':
      return scp(command, args);
    case 'sftp':
      return sftp(command, args);
    case 'rsync':
      return rsync(command, args);
    case 'ftp':
    case 'lftp':
    case 'tftp':
    case 'ncftp':
    case 'ncftpput':
    case 'smbclient':
      return ftp(command, tool, args);
    case 'http':
    case 'https':
    case 'xh':
    case 'xhs':
    case 'httpie':
      return httpie(command, tool, args);
    case 'git':
      return git(command, args);
    case 'sendmail':
    case 'msmtp':
    case 'ssmtp':
    case 'mail':
    case 'mailx':
    case 'bsd-mailx':
    case 's-nail':
    case 'mutt':
    case 'neomutt':
    case 'swaks':
      return mail(command, tool, args);
    case 'openssl':
      return openssl(command, args);
    case 'dig':
    case 'nslookup':
    case 'host':
    case 'drill':
    case 'kdig':
    case 'delv':
    case 'resolvectl':
    case 'getent':
    case 'dnsget':
      return dns(command, tool, args);
    case 'ping':
    case 'ping6':
    case 'traceroute':
    case 'traceroute6':
    case 'tracepath':
    case 'mtr':
    case 'arping':
    case 'fping':
    case 'hping3':
    case 'nmap':
    case 'masscan':
    case 'zmap':
    case 'nping':
      return probe(command, tool, args);
    case 'redis-cli':
    case 'psql':
    case 'mysql':
    case 'mariadb':
    case 'mongo':
    case 'mongosh':
    case 'pg_dump':
    case 'mysqldump':
    case 'ldapsearch':
    case 'ldapmodify':
    case 'memcached-tool':
    case 'amqp-publish':
    case 'mosquitto_pub':
    case 'mosquitto_sub':
    case 'kafkacat':
    case 'kcat':
      return database(command, tool, args);
    case 'gh':
    case 'aws':
    case 'gsutil':
    case 'rclone':
    case 'az':
    case 's3cmd':
    case 'mc':
      return cloud(command, tool, args);
    case 'awk':
    case 'gawk': {
      const program = args.find((a) => !a.startsWith('-')) ?? '';
      const m = /\/inet[46]?\/(tcp|udp)\/\d+\/([^/"']+)\/(\d+)/.exec(program);
      if (!m) return null;
      const out = blank(tool, command);
      out.destinations.push({ tool, scheme: m[1]!, host: m[2]!, port: Number(m[3]), url: null, via: '/inet' });
      out.sendsStdin = true;
      out.uploads.push(...args.filter((a) => !a.startsWith('-') && a !== program).map((path) => ({ tool, path, via: 'input file' })));
      return out;
    }
    default:
      break;
  }
  const interpreter = INTERPRETERS[tool] ?? (PYTHON_RE.test(tool) ? INTERPRETERS.python : undefined);
  if (interpreter) return oneLiner(command, tool, args, interpreter);
  if (SILENT.has(tool)) return null;
  return genericUrls(command, tool, args, null);
}

/* ------------------------------------------------------------------------------------------ */
/* Extractors                                                                                  */
/* ------------------------------------------------------------------------------------------ */

const CURL_SHORT_WITH_VALUE = 'AbcCdDeEFHKmoPQrTtuUwxXyYz';
const CURL_LONG_WITH_VALUE = [
  '--user-agent', '--abstract-unix-socket', '--alt-svc', '--aws-sigv4', '--cookie', '--cookie-jar', '--cacert', '--capath', '--cert', '--cert-type',
  '--ciphers', '--config', '--connect-timeout', '--connect-to', '--continue-at', '--create-file-mode', '--crlfile', '--curves', '--data', '--data-ascii',
  '--data-binary', '--data-raw', '--data-urlencode', '--delegation', '--dns-interface', '--dns-ipv4-addr', '--dns-ipv6-addr', '--dns-servers', '--doh-url',
  '--dump-header', '--ech', '--egd-file', '--engine', '--etag-compare', '--etag-save', '--expect100-timeout', '--form', '--form-string', '--ftp-account',
  '--ftp-alternative-to-user', '--ftp-method', '--ftp-port', '--ftp-ssl-ccc-mode', '--happy-eyeballs-timeout-ms', '--haproxy-clientip', '--header',
  '--hostpubmd5', '--hostpubsha256', '--hsts', '--interface', '--ip-tos', '--ipfs-gateway', '--json', '--keepalive-time', '--key', '--key-type', '--krb',
  '--libcurl', '--limit-rate', '--local-port', '--login-options', '--mail-auth', '--mail-from', '--mail-rcpt', '--max-filesize', '--max-redirs', '--max-time',
  '--netrc-file', '--noproxy', '--oauth2-bearer', '--output', '--output-dir', '--parallel-max', '--pass', '--pinnedpubkey', '--preproxy', '--proto',
  '--proto-default', '--proto-redir', '--proxy', '--proxy-cacert', '--proxy-capath', '--proxy-cert', '--proxy-cert-type', '--proxy-ciphers', '--proxy-crlfile',
  '--proxy-header', '--proxy-key', '--proxy-key-type', '--proxy-pass', '--proxy-pinnedpubkey', '--proxy-service-name', '--proxy-tls13-ciphers',
  '--proxy-tlsauthtype', '--proxy-tlspassword', '--proxy-tlsuser', '--proxy-user', '--proxy1.0', '--quote', '--random-file', '--range', '--rate', '--referer',
  '--request-target', '--request', '--resolve', '--retry', '--retry-delay', '--retry-max-time', '--sasl-authzid', '--service-name', '--socks4', '--socks4a',
  '--socks5', '--socks5-gssapi-service', '--socks5-hostname', '--speed-limit', '--speed-time', '--stderr', '--telnet-option', '--tftp-blksize', '--time-cond',
  '--tls-max', '--tls13-ciphers', '--tlsauthtype', '--tlspassword', '--tlsuser', '--trace', '--trace-ascii', '--trace-config', '--unix-socket', '--upload-file',
  '--url', '--url-query', '--user', '--write-out', '--variable', '--expand-data', '--expand-url', '--expand-header', '--expand-json', '--expand-output',
  '--expand-user', '--expand-form', '--expand-referer', '--proxy-http2', '--ssl-sessions', '--ip-tos', '--vlan-priority', '--sigalgs',
];
const CURL_SHORT_MAP: Record<string, string> = {
  '-d': '--data', '-F': '--form', '-T': '--upload-file', '-H': '--header', '-K': '--config', '-x': '--proxy', '-u': '--user', '-b': '--cookie',
};

function curl(command: SimpleCommand, args: string[]): CommandEgress {
  const out = blank('curl', command);
  const { operands, options } = getopt(args, { withValue: CURL_SHORT_WITH_VALUE, longWithValue: CURL_LONG_WITH_VALUE });
  const opts = options.map(([name, value]) => [CURL_SHORT_MAP[name] ?? name, value] as [string, string | true]);
  curlOptions(out, opts, operands, has(opts, '--unix-socket', '--abstract-unix-socket'));
  return out;
}

/** Shared by the command line and -K config files. */
export function curlOptions(out: CommandEgress, opts: Array<[string, string | true]>, urls: string[], unixSocket: boolean): void {
  const tool = 'curl';
  const defaultScheme = values(opts, '--proto-default')[0] ?? 'http';
  if (!unixSocket) {
    for (const raw of [...urls, ...values(opts, '--url')]) {
      for (const url of expandCurlGlob(raw)) {
        const d = parseUrlArg(url, defaultScheme, tool, 'URL');
        if (d) out.destinations.push(d);
      }
    }
  }
  for (const proxy of values(opts, '--proxy', '--preproxy', '--socks4', '--socks4a', '--socks5', '--socks5-hostname', '--doh-url')) {
    const d = parseUrlArg(proxy, 'http', tool, 'proxy');
    if (d) out.destinations.push(d);
  }
  for (const servers of values(opts, '--dns-servers')) {
    for (const server of servers.split(',')) {
      const d = hostPort(server, tool, '--dns-servers', 53, 'udp');
      if (d) out.destinations.push(d);
    }
  }
  for (const resolve of values(opts, '--resolve')) {
    // [+]host:port:addr[,addr]...
    const m = /^\+?([^:]+|\[[^\]]+\]):(\d+|\*):(.+)$/.exec(resolve);
    if (m) for (const addr of m[3]!.split(',')) out.destinations.push({ tool, scheme: 'tcp', host: addr.replace(/^\[|\]$/g, ''), port: m[2] === '*' ? null : Number(m[2]), url: null, via: '--resolve' });
  }
  for (const connectTo of values(opts, '--connect-to')) {
    // host1:port1:host2:port2
    const m = /^(?:\[[^\]]*\]|[^:]*):[^:]*:(\[[^\]]+\]|[^:]+):(\d*)$/.exec(connectTo);
    if (m) out.destinations.push({ tool, scheme: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : null, url: null, via: '--connect-to' });
  }
  for (const [name, value] of opts) {
    if (typeof value !== 'string') continue;
    switch (name) {
      case '--data':
      case '--data-ascii':
      case '--data-binary':
      case '--json':
      case '--header':
      case '--proxy-header':
      case '--url-query':
      case '--data-urlencode':
      case '--variable':
      case '--expand-data': {
        // @file, or name@file for --data-urlencode / --url-query / --variable
        const m = /^(?:[^@=]*(?:=|(?=@)))?@(.+)$/s.exec(value);
        if (m) addFile(out, m[1]!, name);
        break;
      }
      case '--form': {
        // name=@file[;type=...] / name=<file
        const m = /^[^=]*=[@<]([^;]+)/s.exec(value);
        if (m) addFile(out, m[1]!.replace(/^"|"$/g, ''), '--form');
        break;
      }
      case '--upload-file':
        addFile(out, value, '--upload-file');
        break;
      case '--config':
        if (value === '-') out.sendsStdin = true;
        else out.configFiles.push({ path: value, format: 'curl' });
        break;
      case '--mail-rcpt':
        break;
      default:
        break;
    }
  }
}

function addFile(out: CommandEgress, path: string, via: string): void {
  if (path === '-' || path === '.') out.sendsStdin = true;
  else out.uploads.push({ tool: out.tool, path, via });
}

/** curl URL globbing: {a,b,c} alternatives and [1-3] ranges, bounded. */
function expandCurlGlob(url: string, limit = 16): string[] {
  let results = [url];
  for (let round = 0; round < 4; round++) {
    const next: string[] = [];
    let changed = false;
    for (const item of results) {
      const brace = /\{([^{}]*)\}/.exec(item);
      if (brace) {
        changed = true;
        for (const alt of brace[1]!.split(',')) next.push(item.slice(0, brace.index) + alt + item.slice(brace.index + brace[0].length));
        continue;
      }
      const range = /\[(\d{1,3})-(\d{1,3})(?::\d+)?\]/.exec(item);
      if (range && !/^\w+:\/\/\[[0-9a-f:]+\]/i.test(item)) {
        changed = true;
        const from = Number(range[1]);
        const to = Math.min(Number(range[2]), from + limit);
        for (let n = from; n <= to; n++) next.push(item.slice(0, range.index) + n + item.slice(range.index + range[0].length));
        continue;
      }
      next.push(item);
    }
    results = next.slice(0, limit);
    if (!changed) break;
  }
  return results;
}

const WGET_SHORT_WITH_VALUE = 'OoaiBtTwPeUQlARDIX';
const WGET_LONG_WITH_VALUE = [
  '--output-document', '--output-file', '--append-output', '--input-file', '--base', '--tries', '--timeout', '--wait', '--directory-prefix', '--execute',
  '--user-agent', '--quota', '--level', '--accept', '--reject', '--domains', '--exclude-domains', '--include-directories', '--exclude-directories', '--header',
  '--post-data', '--post-file', '--body-data', '--body-file', '--method', '--user', '--password', '--http-user', '--http-password', '--proxy-user',
  '--proxy-password', '--load-cookies', '--save-cookies', '--ca-certificate', '--certificate', '--private-key', '--bind-address', '--referer', '--limit-rate',
  '--dns-timeout', '--connect-timeout', '--read-timeout', '--restrict-file-names', '--default-page', '--config', '--use-askpass', '--ca-directory',
];

function wget(command: SimpleCommand, tool: string, args: string[]): CommandEgress {
  const out = blank(tool, command);
  const { operands, options } = getopt(args, { withValue: WGET_SHORT_WITH_VALUE, longWithValue: WGET_LONG_WITH_VALUE });
  for (const url of operands) {
    const d = parseUrlArg(url, 'http', tool, 'URL');
    if (d) out.destinations.push(d);
  }
  for (const file of values(options, '--post-file', '--body-file')) addFile(out, file, '--post-file');
  for (const list of values(options, '-i', '--input-file')) {
    if (list === '-') out.sendsStdin = true;
    else out.configFiles.push({ path: list, format: 'urls' });
  }
  for (const value of values(options, '-e', '--execute', '--header', '-B', '--base')) out.destinations.push(...urlsInText(value, tool, 'option'));
  return out;
}

function genericUrls(command: SimpleCommand, tool: string, args: string[], defaultScheme: string | null): CommandEgress | null {
  const out = blank(tool, command);
  for (const arg of args) {
    if (defaultScheme && !arg.startsWith('-')) {
      const d = parseUrlArg(arg, /^[\w.-]+(:\d+)?(\/|$)/.test(arg) && /[.:]/.test(arg) ? defaultScheme : null, tool, 'URL');
      if (d) {
        out.destinations.push(d);
        continue;
      }
    }
    out.destinations.push(...urlsInText(arg, tool, 'argument'));
  }
  if (out.destinations.length === 0) return null;
  // A generic client that sends stdin somewhere.
  if (readsStdin(command)) out.sendsStdin = true;
  return out;
}

const NC_WITH_VALUE = 'IiMmOPpqsTVwXxecgGod';
const NC_LONG_WITH_VALUE = ['--sh-exec', '--exec', '--lua-exec', '--proxy', '--proxy-type', '--proxy-auth', '--source', '--source-port', '--wait', '--idle-timeout', '--output', '--hex-dump', '--max-conns', '--allow', '--allowfile', '--deny', '--denyfile', '--ssl-cert', '--ssl-key', '--ssl-trustfile', '--ssl-ciphers', '--ssl-servername', '--ssl-alpn', '--proxy-dns', '--delay', '--append-output'];

function netcat(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const { operands, options } = getopt(args, { withValue: NC_WITH_VALUE, longWithValue: NC_LONG_WITH_VALUE });
  if (has(options, '-l', '--listen') || has(options, '-U', '--unixsock')) return null;
  const out = blank(tool, command);
  const [host, ...ports] = operands;
  if (host) {
    const port = ports[0] && /^\d+/.test(ports[0]) ? Number(/^\d+/.exec(ports[0])![0]) : null;
    const d = parseUrlArg(host, has(options, '-u', '--udp') ? 'udp' : 'tcp', tool, 'host');
    if (d) out.destinations.push({ ...d, port: port ?? d.port });
  }
  for (const proxy of values(options, '-x', '--proxy')) {
    const d = hostPort(proxy, tool, 'proxy', 1080);
    if (d) out.destinations.push(d);
  }
  out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool, path: file, via: '< file' });
  return out;
}

function socat(command: SimpleCommand, args: string[]): CommandEgress | null {
  const out = blank('socat', command);
  const addresses = args.filter((a) => !a.startsWith('-') || a === '-');
  let network = false;
  const files: string[] = [];
  for (const address of addresses) {
    const [head, ...paramsParts] = address.split(',')[0]!.split(':');
    const type = head!.toUpperCase();
    const params = paramsParts;
    if (/^(TCP[46]?|TCP[46]?-CONNECT|UDP[46]?|UDP[46]?-CONNECT|UDP[46]?-SENDTO|SCTP[46]?-CONNECT|SCTP[46]?|OPENSSL|OPENSSL-CONNECT|SSL|DTLS|DTLS-CLIENT)$/.test(type)) {
      const host = params.length > 2 ? params.slice(0, -1).join(':') : params[0];
      const port = params.length >= 2 ? Number(params[params.length - 1]) : null;
      if (host) out.destinations.push({ tool: 'socat', scheme: type.startsWith('UDP') ? 'udp' : 'tcp', host: host.replace(/^\[|\]$/g, ''), port: Number.isFinite(port) ? port : null, url: null, via: type });
      network = true;
    } else if (/^(PROXY|PROXY-CONNECT|SOCKS4A?|SOCKS5|SOCKS5-CONNECT)$/.test(type)) {
      if (params[0]) out.destinations.push({ tool: 'socat', scheme: 'tcp', host: params[0], port: null, url: null, via: `${type} server` });
      if (params[1]) out.destinations.push({ tool: 'socat', scheme: 'tcp', host: params[1], port: params[2] ? Number(params[2]) : null, url: null, via: type });
      network = true;
    } else if (/^(FILE|OPEN|GOPEN|READ)$/.test(type) && params[0]) files.push(params.join(':'));
    else if (address === '-' || /^(STDIO|STDIN|-)$/.test(type)) out.sendsStdin = true;
    else if (address.startsWith('/')) files.push(address);
  }
  if (!network) return null;
  for (const file of files) out.uploads.push({ tool: 'socat', path: file, via: 'FILE address' });
  for (const file of stdinFiles(command)) out.uploads.push({ tool: 'socat', path: file, via: '< file' });
  return out;
}

function telnet(command: SimpleCommand, args: string[]): CommandEgress | null {
  const { operands } = getopt(args, { withValue: 'beglnkX', longWithValue: [] });
  if (!operands[0]) return null;
  const out = blank('telnet', command);
  const d = parseUrlArg(operands[0], 'telnet', 'telnet', 'host');
  if (d) out.destinations.push({ ...d, port: operands[1] && /^\d+$/.test(operands[1]) ? Number(operands[1]) : 23 });
  out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool: 'telnet', path: file, via: '< file' });
  return out;
}

const SSH_WITH_VALUE = 'BbcDEeFIiJLlmOoPpQRSWw';

function sshPort(options: Array<[string, string | true]>, flag: string): number | null {
  const explicit = values(options, flag)[0];
  if (explicit && /^\d+$/.test(explicit)) return Number(explicit);
  for (const option of values(options, '-o')) {
    const m = /^Port[= ]\s*(\d+)$/i.exec(option.trim());
    if (m) return Number(m[1]);
  }
  return null;
}

function jumpHosts(options: Array<[string, string | true]>, tool: string): Destination[] {
  const hosts = [...values(options, '-J'), ...values(options, '-o').flatMap((o) => { const m = /^ProxyJump[= ]\s*(.+)$/i.exec(o.trim()); return m ? [m[1]!] : []; })];
  return hosts.flatMap((list) => list.split(',')).flatMap((spec) => {
    const d = parseUrlArg(spec.includes('://') ? spec : spec.replace(/^[^@]*@/, ''), 'ssh', tool, '-J jump host');
    return d ? [d] : [];
  });
}

function ssh(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const { operands, options } = getopt(args, { withValue: SSH_WITH_VALUE, longWithValue: [], stopAtFirstOperand: true });
  const target = operands[0];
  const out = blank(tool, command);
  if (target) {
    const d = parseUrlArg(target.includes('://') ? target : `ssh://${target}`, null, tool, 'host');
    if (d) out.destinations.push({ ...d, port: sshPort(options, '-p') ?? d.port });
  }
  for (const forward of values(options, '-W')) {
    const d = hostPort(forward, tool, '-W', null);
    if (d) out.destinations.push(d);
  }
  out.destinations.push(...jumpHosts(options, tool));
  if (out.destinations.length === 0) return null;
  // Whatever ssh reads on stdin is sent to the remote command.
  out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool, path: file, via: '< file' });
  return out;
}

function scp(command: SimpleCommand, args: string[]): CommandEgress | null {
  const { operands, options } = getopt(args, { withValue: 'cFiJloPSDX', longWithValue: [] });
  const out = blank('scp', command);
  const port = sshPort(options, '-P');
  const remotes = operands.map((operand) => {
    if (/^scp:\/\//i.test(operand)) {
      const d = parseUrlArg(operand, null, 'scp', 'remote');
      return d ? { d: { ...d, port: port ?? d.port } } : null;
    }
    const spec = remoteSpec(operand);
    return spec ? { d: { tool: 'scp', scheme: 'ssh', host: spec.host, port: port ?? 22, url: null, via: 'remote' } as Destination } : null;
  });
  for (const remote of remotes) if (remote) out.destinations.push(remote.d);
  out.destinations.push(...jumpHosts(options, 'scp'));
  const last = operands.length - 1;
  if (last >= 1 && remotes[last]) {
    operands.slice(0, last).forEach((operand, index) => {
      if (!remotes[index]) out.uploads.push({ tool: 'scp', path: operand, via: 'source' });
    });
  }
  return out.destinations.length ? out : null;
}

function sftp(command: SimpleCommand, args: string[]): CommandEgress | null {
  const { operands, options } = getopt(args, { withValue: 'BbcDFiJloPRSsX', longWithValue: [] });
  const target = operands[0];
  if (!target) return null;
  const out = blank('sftp', command);
  const spec = /^sftp:\/\//i.test(target) ? parseUrlArg(target, null, 'sftp', 'host') : parseUrlArg(`ssh://${target.replace(/:.*$/, '').replace(/^\[(.*)\]$/, '[$1]')}`, null, 'sftp', 'host');
  if (spec) out.destinations.push({ ...spec, port: sshPort(options, '-P') ?? 22 });
  out.destinations.push(...jumpHosts(options, 'sftp'));
  out.sendsStdin = true;
  for (const batch of values(options, '-b')) out.configFiles.push({ path: batch, format: 'urls' });
  return out;
}

const RSYNC_LONG_WITH_VALUE = [
  '--exclude', '--include', '--rsh', '--files-from', '--filter', '--port', '--password-file', '--exclude-from', '--include-from', '--temp-dir', '--compare-dest',
  '--link-dest', '--copy-dest', '--backup-dir', '--suffix', '--chmod', '--log-file', '--log-file-format', '--partial-dir', '--timeout', '--contimeout',
  '--bwlimit', '--max-size', '--min-size', '--out-format', '--rsync-path', '--address', '--sockopts', '--outbuf', '--usermap', '--groupmap', '--chown',
  '--info', '--debug', '--max-delete', '--modify-window', '--block-size', '--checksum-choice', '--compress-choice', '--compress-level', '--skip-compress',
  '--protocol', '--iconv', '--stop-after', '--stop-at', '--write-batch', '--read-batch', '--only-write-batch', '--remote-option', '--mkpath',
];

function rsync(command: SimpleCommand, args: string[]): CommandEgress | null {
  const { operands, options } = getopt(args, { withValue: 'efBTM', longWithValue: RSYNC_LONG_WITH_VALUE });
  const out = blank('rsync', command);
  const rsh = values(options, '-e', '--rsh')[0];
  const rshPort = rsh ? /-p\s*(\d+)/.exec(rsh)?.[1] : undefined;
  const portOption = values(options, '--port')[0];
  const remote = operands.map((operand) => {
    if (/^rsync:\/\//i.test(operand)) {
      const d = parseUrlArg(operand, null, 'rsync', 'remote');
      return d ? { ...d, port: portOption ? Number(portOption) : d.port } : null;
    }
    const daemon = /^(?:[^@/:]+@)?([^/:@]+)::/.exec(operand);
    if (daemon) return { tool: 'rsync', scheme: 'rsync', host: daemon[1]!, port: portOption ? Number(portOption) : 873, url: null, via: 'daemon' } as Destination;
    const spec = remoteSpec(operand);
    return spec ? ({ tool: 'rsync', scheme: 'ssh', host: spec.host, port: rshPort ? Number(rshPort) : 22, url: null, via: 'remote' } as Destination) : null;
  });
  for (const d of remote) if (d) out.destinations.push(d);
  const last = operands.length - 1;
  if (last >= 1 && remote[last]) {
    operands.slice(0, last).forEach((operand, index) => {
      if (!remote[index]) out.uploads.push({ tool: 'rsync', path: operand, via: 'source' });
    });
  }
  return out.destinations.length ? out : null;
}

function ftp(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const withValue = tool === 'lftp' ? 'uepc' : tool === 'tftp' ? 'mcR' : tool === 'smbclient' ? 'UWpInOsAlcDTmtE' : 'PoTsu';
  const { operands, options } = getopt(args, { withValue, longWithValue: ['--user', '--port', '--command'] });
  const out = blank(tool, command);
  const scheme = tool === 'tftp' ? 'tftp' : tool === 'smbclient' ? 'smb' : 'ftp';
  const host = operands[0];
  if (host) {
    const text = tool === 'smbclient' ? host.replace(/^\/\/([^/]+).*$/, '$1') : host;
    const d = parseUrlArg(text, scheme, tool, 'host');
    const port = operands[1] && /^\d+$/.test(operands[1]) ? Number(operands[1]) : null;
    if (d) out.destinations.push({ ...d, port: port ?? d.port });
  }
  const port = values(options, '-p', '--port')[0];
  if (port && out.destinations[0] && /^\d+$/.test(port)) out.destinations[0].port = Number(port);
  for (const script of values(options, '-e', '-c', '--command')) {
    for (const m of script.matchAll(/\b(?:put|mput|reput|append)\s+(?:-\S+\s+)*("[^"]+"|'[^']+'|\S+)/g)) out.uploads.push({ tool, path: m[1]!.replace(/^["']|["']$/g, ''), via: 'put' });
    for (const m of script.matchAll(/\bopen\s+(?:-\S+\s+\S+\s+)*(\S+)/g)) {
      const d = parseUrlArg(m[1]!.replace(/;$/, ''), scheme, tool, 'open');
      if (d) out.destinations.push(d);
    }
  }
  for (const doc of command.redirects) {
    if (!doc.text) continue;
    for (const m of doc.text.matchAll(/^\s*(?:put|mput|send|append)\s+(\S+)/gm)) out.uploads.push({ tool, path: m[1]!, via: 'put' });
    for (const m of doc.text.matchAll(/^\s*open\s+(\S+)(?:\s+(\d+))?/gm)) {
      const d = parseUrlArg(m[1]!, scheme, tool, 'open');
      if (d) out.destinations.push({ ...d, port: m[2] ? Number(m[2]) : d.port });
    }
  }
  if (tool === 'ncftpput') out.uploads.push(...operands.slice(2).map((path) => ({ tool, path, via: 'upload' })));
  if (tool === 'ftp') for (const url of values(options, '-u')) {
    const d = parseUrlArg(url, 'ftp', tool, '-u');
    if (d) out.destinations.push(d);
    out.uploads.push(...operands.map((path) => ({ tool, path, via: '-u upload' })));
  }
  if (out.destinations.length === 0) return null;
  out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool, path: file, via: '< file' });
  return out;
}

const HTTPIE_WITH_VALUE = 'aAopsvbh';
const HTTPIE_LONG_WITH_VALUE = [
  '--auth', '--auth-type', '--output', '--print', '--style', '--session', '--session-read-only', '--verify', '--cert', '--cert-key', '--cert-key-pass', '--proxy',
  '--timeout', '--max-redirects', '--max-headers', '--pretty', '--format-options', '--default-scheme', '--ssl', '--ciphers', '--boundary', '--raw',
  '--response-charset', '--response-mime', '--resolve', '--bearer', '--history-print', '--interface', '--unix-socket', '--http-version',
];

function httpie(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const { operands, options } = getopt(args, { withValue: HTTPIE_WITH_VALUE, longWithValue: HTTPIE_LONG_WITH_VALUE });
  let rest = operands;
  if (rest.length >= 2 && /^[A-Z]+$/.test(rest[0]!)) rest = rest.slice(1);
  const urlText = rest[0];
  if (!urlText) return null;
  const out = blank(tool, command);
  const scheme = tool === 'https' || tool === 'xhs' ? 'https' : (values(options, '--default-scheme')[0] ?? 'http');
  // ":3000/path" and ":/path" are localhost shorthands.
  const expanded = urlText.startsWith(':') ? `localhost${/^:\d/.test(urlText) ? urlText : urlText.slice(1)}` : urlText;
  const d = parseUrlArg(expanded, scheme, tool, 'URL');
  if (d) out.destinations.push(d);
  for (const proxy of values(options, '--proxy')) {
    const url = proxy.replace(/^[a-z]+:(?=[a-z]+:\/\/)/i, '');
    const pd = parseUrlArg(url, 'http', tool, 'proxy');
    if (pd) out.destinations.push(pd);
  }
  for (const resolve of values(options, '--resolve')) {
    const m = /^[^:]+:\d+:(.+)$/.exec(resolve);
    if (m) out.destinations.push({ tool, scheme: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: null, url: null, via: '--resolve' });
  }
  for (const item of rest.slice(1)) {
    // field=@file (text), field:=@file (JSON), field@file (upload), Header:@file
    const m = /^(?:[^=:@\\]|\\.)*(?:=@|:=@|:@|@)(.+)$/s.exec(item);
    if (m) out.uploads.push({ tool, path: m[1]!, via: 'request item' });
  }
  for (const raw of values(options, '--raw')) if (raw.startsWith('@')) out.uploads.push({ tool, path: raw.slice(1), via: '--raw' });
  if (readsStdin(command)) out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool, path: file, via: '< file' });
  return out;
}

const GIT_GLOBAL_WITH_VALUE = ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--config-env', '--super-prefix', '--list-cmds'];

function gitUrl(text: string, via: string): Destination | null {
  if (/^(file:\/\/|\/|\.\.?\/|~)/.test(text)) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return parseUrlArg(text.replace(/^(git\+|ssh\+git)/i, ''), null, 'git', via);
  const spec = remoteSpec(text);
  if (spec && text.includes('@')) return { tool: 'git', scheme: 'ssh', host: spec.host, port: 22, url: null, via };
  if (spec && /\./.test(spec.host)) return { tool: 'git', scheme: 'ssh', host: spec.host, port: 22, url: null, via };
  return null;
}

function git(command: SimpleCommand, args: string[]): CommandEgress | null {
  const out = blank('git', command);
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) break;
    if (arg === '-c' || arg === '--config-env') {
      out.destinations.push(...urlsInText(args[i + 1] ?? '', 'git', '-c'));
      i++;
      continue;
    }
    if (GIT_GLOBAL_WITH_VALUE.includes(arg)) i++;
  }
  const sub = args[i];
  const rest = args.slice(i + 1);
  if (!sub || !GIT_NETWORK.has(sub)) return out.destinations.length ? out : null;
  const positional = rest.filter((a) => !a.startsWith('-'));
  // Options of the network subcommands that take a separate value.
  const valueOptions = new Set(['-o', '--push-option', '--receive-pack', '--upload-pack', '--exec', '--repo', '--depth', '--branch', '-b', '--origin', '-u', '--template', '--reference', '--separate-git-dir', '--jobs', '-j', '--filter', '--shallow-since', '--shallow-exclude', '--recurse-submodules', '--server-option', '--config', '--remote', '--prefix', '--format', '--output', '-t', '-m', '--name']);
  const operands: string[] = [];
  for (let k = 0; k < rest.length; k++) {
    const arg = rest[k]!;
    if (arg.startsWith('--remote=')) {
      const d = gitUrl(arg.slice('--remote='.length), '--remote');
      if (d) out.destinations.push(d);
      continue;
    }
    if (arg.startsWith('-')) {
      if (valueOptions.has(arg) && !arg.includes('=')) {
        if (arg === '--remote') {
          const d = gitUrl(rest[k + 1] ?? '', '--remote');
          if (d) out.destinations.push(d);
        }
        k++;
      }
      continue;
    }
    operands.push(arg);
  }
  void positional;
  let repository: string | undefined;
  switch (sub) {
    case 'remote':
      if (operands[0] === 'add' || operands[0] === 'set-url') {
        // remote add NAME URL / remote set-url NAME NEWURL [OLDURL]
        repository = operands[2];
      }
      break;
    case 'submodule':
      if (operands[0] === 'add') repository = operands[1];
      break;
    case 'archive':
    case 'send-email':
      break;
    default:
      repository = operands[0];
  }
  if (repository) {
    const d = gitUrl(repository, sub);
    if (d) out.destinations.push(d);
    else if (sub !== 'clone' && /^[\w.-]+$/.test(repository)) out.gitRemotes.push(repository);
  } else if (sub === 'push' || sub === 'pull' || sub === 'fetch') {
    out.gitRemotes.push('origin');
  }
  if (sub === 'send-email') {
    out.uploads.push(...operands.map((path) => ({ tool: 'git', path, via: 'send-email' })));
    out.destinations.push({ tool: 'git', scheme: 'smtp', host: UNKNOWN, port: null, url: null, via: 'send-email' });
  }
  return out;
}

function mail(command: SimpleCommand, tool: string, args: string[]): CommandEgress {
  const out = blank(tool, command);
  if (tool === 'swaks') {
    const { options } = getopt(args, { withValue: 'tfsp', longWithValue: ['--to', '--from', '--server', '--port', '--attach', '--body', '--data', '--header', '--auth-user', '--auth-password', '--helo', '--attach-type', '--attach-name', '--attach-body', '--tls-cert', '--tls-key', '--local-interface', '--add-header'] });
    const server = values(options, '-s', '--server')[0];
    const port = values(options, '-p', '--port')[0];
    if (server) {
      const d = hostPort(server, tool, '--server', port ? Number(port) : 25, 'smtp');
      if (d) out.destinations.push({ ...d, port: port ? Number(port) : d.port });
    }
    for (const to of values(options, '-t', '--to')) for (const address of to.split(',')) out.destinations.push(mailDestination(tool, address));
    for (const file of values(options, '--attach', '--attach-body')) addFile(out, file.replace(/^@/, ''), '--attach');
    for (const body of values(options, '--body', '--data')) if (body.startsWith('@')) addFile(out, body.slice(1), '--body');
    if (!server && out.destinations.length === 0) out.destinations.push({ tool, scheme: 'smtp', host: UNKNOWN, port: null, url: null, via: 'MX' });
    return out;
  }
  const withValue = tool === 'sendmail' || tool === 'msmtp' || tool === 'ssmtp' ? 'fFoOBNRVXCLhrpqbd' : 'sacbrSqAeuFi';
  const { operands, options } = getopt(args, { withValue, longWithValue: ['--host', '--port', '--from', '--subject', '--attach', '--content-type', '--file', '--account', '--auth'] });
  for (const operand of operands) {
    for (const address of operand.split(',')) if (address.includes('@')) out.destinations.push(mailDestination(tool, address));
  }
  if (tool === 'mail' || tool === 'mailx' || tool === 'bsd-mailx' || tool === 's-nail' || tool === 'mutt' || tool === 'neomutt') {
    for (const address of values(options, '-c', '-b')) out.destinations.push(mailDestination(tool, address));
    // mailx/s-nail/mutt -a FILE attaches; GNU mailutils uses -A FILE (and -a for headers).
    for (const file of values(options, '-a', '-A', '--attach')) if (!/^[\w-]+:/.test(file)) addFile(out, file, 'attachment');
  }
  const host = values(options, '--host')[0];
  if (host) out.destinations.push({ tool, scheme: 'smtp', host, port: Number(values(options, '--port')[0] ?? 25), url: null, via: '--host' });
  if (out.destinations.length === 0 && has(options, '-t')) out.destinations.push({ tool, scheme: 'smtp', host: UNKNOWN, port: null, url: null, via: 'recipients from headers' });
  out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool, path: file, via: '< file' });
  return out;
}

function mailDestination(tool: string, address: string): Destination {
  const clean = address.trim().replace(/^.*<([^>]+)>.*$/, '$1');
  const at = clean.lastIndexOf('@');
  return { tool, scheme: 'mailto', host: at >= 0 ? clean.slice(at + 1) : clean, port: null, url: `mailto:${clean}`, via: 'recipient' };
}

function openssl(command: SimpleCommand, args: string[]): CommandEgress | null {
  const sub = args[0];
  if (!sub || !/^(s_client|s_time)$/.test(sub)) return null;
  const out = blank('openssl', command);
  let host: string | undefined;
  let port: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '-connect' && next) {
      const d = hostPort(next, 'openssl', '-connect', 443);
      if (d) out.destinations.push(d);
      i++;
    } else if (arg === '-host' && next) {
      host = next;
      i++;
    } else if (arg === '-port' && next) {
      port = next;
      i++;
    } else if (arg === '-proxy' && next) {
      const d = hostPort(next, 'openssl', '-proxy', 8080);
      if (d) out.destinations.push(d);
      i++;
    } else if (!arg.startsWith('-') && /[.:]/.test(arg) && !args[i - 1]?.startsWith('-')) {
      const d = hostPort(arg, 'openssl', 'host', 443);
      if (d) out.destinations.push(d);
    }
  }
  if (host) out.destinations.push({ tool: 'openssl', scheme: 'tcp', host, port: port ? Number(port) : 443, url: null, via: '-host' });
  if (out.destinations.length === 0) out.destinations.push({ tool: 'openssl', scheme: 'tcp', host: 'localhost', port: 4433, url: null, via: 'default' });
  out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool: 'openssl', path: file, via: '< file' });
  return out;
}

const DNS_TYPES = new Set(['A', 'AAAA', 'ANY', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'CAA', 'DS', 'DNSKEY', 'HTTPS', 'SVCB', 'NAPTR', 'TLSA', 'AXFR', 'IXFR', 'SPF', 'IN', 'CH', 'HS', 'NULL', 'RRSIG', 'NSEC', 'SSHFP']);

function dns(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const out = blank(tool, command);
  const withValue = tool === 'host' ? 'tcWRmN' : tool === 'nslookup' ? '' : tool === 'getent' ? 's' : 'tcqpbfkyx';
  let rest = args;
  if (tool === 'resolvectl') {
    if (rest[0] !== 'query') return null;
    rest = rest.slice(1);
  }
  if (tool === 'getent') {
    if (!/^(hosts|ahosts|ahostsv4|ahostsv6)$/.test(rest[0] ?? '')) return null;
    rest = rest.slice(1);
  }
  const { operands, options } = getopt(rest.filter((a) => !a.startsWith('+')), { withValue, longWithValue: [] });
  for (const name of [...values(options, '-q')]) out.dnsNames.push(name);
  const plain = operands.filter((operand) => !operand.startsWith('@') && !DNS_TYPES.has(operand.toUpperCase()));
  const servers = operands.filter((operand) => operand.startsWith('@')).map((operand) => operand.slice(1));
  if (tool === 'nslookup' || tool === 'host') {
    // nslookup NAME [SERVER] / host NAME [SERVER]
    if (plain[0]) out.dnsNames.push(plain[0]);
    if (plain[1]) servers.push(plain[1]);
  } else {
    out.dnsNames.push(...plain);
  }
  for (const server of servers) {
    const d = parseUrlArg(server, 'dns', tool, 'DNS server');
    if (d) out.destinations.push({ ...d, port: d.port ?? 53 });
  }
  return out;
}

function probe(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const out = blank(tool, command);
  const withValue = tool === 'nmap' || tool === 'masscan' || tool === 'nping' ? 'poeiDSgM' : tool === 'mtr' ? 'acfimMsQBGIPT' : 'cfiIlmMpQsStTwWFgqNzUdrVARBe';
  const { operands, options } = getopt(args, { withValue, longWithValue: ['--port', '--ports', '--script', '--script-args', '--max-rate', '--rate', '--exclude', '--excludefile', '-iL', '--top-ports', '--source-port', '--data-length', '--dns-servers', '--interface'] });
  for (const operand of operands) {
    if (/^\d+$/.test(operand)) continue; // packet sizes etc.
    const host = operand.replace(/\/\d{1,3}$/, '').replace(/-\d+$/, '');
    const d = parseUrlArg(host, 'icmp', tool, 'target');
    if (d) out.destinations.push({ ...d, port: null });
    out.dnsNames.push(host);
  }
  void options;
  return out;
}

function database(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const out = blank(tool, command);
  const schemeDefault: Record<string, string> = { 'redis-cli': 'redis', psql: 'postgres', pg_dump: 'postgres', mysql: 'mysql', mariadb: 'mysql', mysqldump: 'mysql', mongo: 'mongodb', mongosh: 'mongodb', ldapsearch: 'ldap', ldapmodify: 'ldap', mosquitto_pub: 'mqtt', mosquitto_sub: 'mqtt', kafkacat: 'kafka', kcat: 'kafka' };
  const scheme = schemeDefault[tool] ?? 'tcp';
  let port: number | null = null;
  const hosts: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const eq = /^(--host|--port|--server|-h|-p|-H|-b)=(.*)$/.exec(arg);
    const name = eq ? eq[1] : arg;
    const value = eq ? eq[2] : next;
    const attached = /^-h(.+)$/.exec(arg);
    if (attached && tool !== 'redis-cli' && !arg.startsWith('--')) hosts.push(attached[1]!);
    else if ((name === '-h' || name === '--host' || name === '--server' || (name === '-b' && tool.startsWith('kafka')) || (name === '-b' && tool === 'kcat')) && value) {
      hosts.push(value);
      if (!eq) i++;
    } else if ((name === '-p' || name === '--port') && value && /^\d+$/.test(value) && tool !== 'mysql' && tool !== 'mariadb' && tool !== 'mysqldump') {
      port = Number(value);
      if (!eq) i++;
    } else if ((name === '-P') && value && /^\d+$/.test(value)) {
      port = Number(value);
      i++;
    } else if ((name === '-H' || name === '-u' || name === '--uri') && value && value.includes('://')) {
      const d = parseUrlArg(value, null, tool, name);
      if (d) out.destinations.push(d);
      i++;
    } else {
      out.destinations.push(...urlsInText(arg, tool, 'connection string'));
      const kv = /(?:^|\s)host=([^\s]+)/.exec(arg);
      if (kv) hosts.push(kv[1]!);
    }
  }
  for (const host of hosts) for (const h of host.split(',')) {
    const d = parseUrlArg(h, scheme, tool, '-h');
    if (d) out.destinations.push({ ...d, port: port ?? d.port });
  }
  if (out.destinations.length === 0) return null;
  if (readsStdin(command)) out.sendsStdin = true;
  for (const file of stdinFiles(command)) out.uploads.push({ tool, path: file, via: '< file' });
  return out;
}

function cloud(command: SimpleCommand, tool: string, args: string[]): CommandEgress | null {
  const out = blank(tool, command);
  for (const arg of args) out.destinations.push(...urlsInText(arg, tool, 'argument'));
  const local = (a: string) => !a.startsWith('-') && !/^[a-z0-9]+:\/\//i.test(a) && !/^[\w-]+:/.test(a);
  const sub = args.filter((a) => !a.startsWith('-'));
  if (tool === 'gh' && sub[0] === 'gist' && sub[1] === 'create') out.uploads.push(...sub.slice(2).filter(local).map((path) => ({ tool, path, via: 'gist' })));
  if (tool === 'gh' && sub[0] === 'release' && sub[1] === 'upload') out.uploads.push(...sub.slice(3).filter(local).map((path) => ({ tool, path, via: 'release asset' })));
  if (tool === 'gh' && sub[0] === 'api') {
    for (let i = 0; i < args.length; i++) {
      if ((args[i] === '-F' || args[i] === '--field' || args[i] === '--input') && args[i + 1]) {
        const m = args[i] === '--input' ? [null, args[i + 1]] : /^[^=]+=@(.+)$/.exec(args[i + 1]!);
        if (m?.[1]) out.uploads.push({ tool, path: m[1], via: args[i]! });
      }
    }
  }
  const copy = (tool === 'aws' && sub[0] === 's3' && /^(cp|mv|sync)$/.test(sub[1] ?? '')) || (tool === 'gsutil' && /^(cp|mv|rsync)$/.test(sub[0] ?? '')) || (tool === 'rclone' && /^(copy|copyto|sync|move|moveto)$/.test(sub[0] ?? '')) || (tool === 's3cmd' && /^(put|sync)$/.test(sub[0] ?? '')) || (tool === 'mc' && /^(cp|mirror)$/.test(sub[0] ?? ''));
  if (copy) {
    const operands = sub.slice(tool === 'aws' ? 2 : 1);
    const last = operands[operands.length - 1];
    if (last && !local(last)) out.uploads.push(...operands.slice(0, -1).filter(local).map((path) => ({ tool, path, via: 'copy to remote' })));
  }
  if (tool === 'az') for (let i = 0; i < args.length; i++) if ((args[i] === '--file' || args[i] === '-f') && args[i + 1]) out.uploads.push({ tool, path: args[i + 1]!, via: '--file' });
  return out.destinations.length || out.uploads.length ? out : null;
}

/* ------------------------------------------------------------------------------------------ */
/* Interpreter one-liners                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Quoted host literals handed to socket / HTTP APIs in code. */
const CODE_HOST_PATTERNS = [
  // ("10.0.0.1", 80) / ['host', 4444]
  /[([]\s*["']([A-Za-z0-9_.:-]+)["']\s*,\s*(\d{1,5})\s*[)\]]/g,
  // TCPSocket.new("h", 80) / Socket.tcp("h", 80) / fsockopen("h", 80) / net.connect(80, "h")
  /\b(?:TCPSocket\.(?:new|open)|Socket\.tcp|fsockopen|stream_socket_client|create_connection|connect|createConnection|open_connection)\(\s*["'](?:tcp:\/\/|udp:\/\/)?([A-Za-z0-9_.:-]+?)(?::(\d{1,5}))?["']\s*(?:,\s*(\d{1,5}))?/g,
  /\b(?:net\.connect|net\.createConnection|connect)\(\s*(\d{1,5})\s*,\s*["']([A-Za-z0-9_.:-]+)["']/g,
  // host: "h" / hostname: 'h' / PeerAddr => "h:80" / PeerHost => "h"
  /\b(?:host|hostname|PeerAddr|PeerHost|address|server)["']?\s*(?:=>|:|=)\s*["']([A-Za-z0-9_.:-]+?)(?::(\d{1,5}))?["']/g,
  // HTTPConnection("h") / Net::HTTP.new("h") / Net::HTTP.get("h", "/")
  /\b(?:HTTPS?Connection|Net::HTTP\.(?:new|start|get|get_response)|FTP|SMTP|SMTP_SSL|Telnet|IMAP4|POP3)\(\s*["']([A-Za-z0-9_.:-]+)["']/g,
];

function codeDestinations(code: string, tool: string): Destination[] {
  const out = urlsInText(code, tool, 'code');
  for (const pattern of CODE_HOST_PATTERNS) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(code); m; m = pattern.exec(code)) {
      let host: string | undefined;
      let port: string | undefined;
      if (/^\d+$/.test(m[1] ?? '') && m[2] && !/^\d+$/.test(m[2])) {
        host = m[2];
        port = m[1];
      } else {
        host = m[1];
        port = m[2] ?? m[3];
      }
      if (!host || /^\d+$/.test(host) || host === '0.0.0.0' || host === '' ) continue;
      // Only things that look like a host: a dotted name, an IP, or localhost.
      if (!/[.:]/.test(host) && host !== 'localhost') continue;
      if (/\.(py|js|ts|rb|pl|php|json|txt|log|sh|md|html|csv|yml|yaml)$/i.test(host)) continue;
      out.push({ tool, scheme: 'tcp', host, port: port ? Number(port) : null, url: null, via: 'code' });
    }
  }
  // Bare IPv4 literals in quotes are connections more often than not in one-liners.
  for (const m of code.matchAll(/["'](\d{1,3}(?:\.\d{1,3}){3})["']/g)) {
    if (!out.some((d) => d.host === m[1])) out.push({ tool, scheme: 'tcp', host: m[1]!, port: null, url: null, via: 'code' });
  }
  for (const m of code.matchAll(/\/dev\/(tcp|udp)\/([^/"'\s]+)\/(\d+)/g)) out.push({ tool, scheme: m[1]!, host: m[2]!, port: Number(m[3]), url: null, via: '/dev/tcp' });
  return out;
}

/** Paths a one-liner reads (quoted strings that look like paths). */
function codePaths(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/["'`]((?:~|\/|\.{1,2}\/|[\w.-]+\/)[^"'`\s]{1,200}|\.env[\w.-]*|[\w.-]+\.(?:pem|key|p12|pfx|env|json|ya?ml|ini|cfg|conf|txt|csv|sqlite|db))["'`]/g)) out.push(m[1]!);
  return out;
}

function oneLiner(command: SimpleCommand, tool: string, args: string[], spec: { code: readonly string[]; multi?: boolean }): CommandEgress | null {
  const pieces: string[] = [];
  let scriptFile: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (spec.code.includes(arg)) {
      if (args[i + 1] !== undefined) pieces.push(args[i + 1]!);
      i++;
      if (!spec.multi) break;
      continue;
    }
    // -c'code' / -e'code' attached, and clustered python flags like -Bc
    const attached = spec.code.find((flag) => flag.length === 2 && arg.startsWith(flag) && arg.length > 2 && !arg.startsWith('--'));
    if (attached) {
      pieces.push(arg.slice(2));
      if (!spec.multi) break;
      continue;
    }
    if (/^-[A-Za-z]*c$/.test(arg) && spec.code.includes('-c')) {
      if (args[i + 1] !== undefined) pieces.push(args[i + 1]!);
      break;
    }
    if (arg === '-m' && PYTHON_RE.test(tool)) {
      // python -m http.server (listens), -m pip ... : not a one-liner
      break;
    }
    if (tool === 'awk' || arg.startsWith('-')) {
      if (/^-(W|X|I|r|M|m)$/.test(arg)) i++;
      continue;
    }
    if (arg === '-') break;
    scriptFile = arg;
    break;
  }
  // No code on the command line and no script file: the script comes from stdin (here-document).
  if (pieces.length === 0 && scriptFile === null) {
    const doc = command.redirects.find((r) => (r.fd === null || r.fd === 0) && r.text);
    if (doc?.text) pieces.push(doc.text);
  }
  if (pieces.length === 0) return null;
  const code = pieces.join('\n');
  const out = blank(tool, command);
  out.destinations.push(...codeDestinations(code, tool));
  if (out.destinations.length === 0) return null;
  out.uploads.push(...codePaths(code).map((path) => ({ tool, path, via: 'read by the code' })));
  if (readsStdin(command)) out.sendsStdin = true;
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* What flows into a command                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Commands that dump the environment or shell variables (secrets live there). */
export const ENV_DUMPERS = new Set(['env', 'printenv', 'set', 'declare', 'export', 'compgen']);

export interface Inflow {
  /** Files read by the commands that feed this one (pipes, substitutions, their stdin redirects). */
  files: Array<{ path: string; by: string }>;
  /** A feeding command prints the environment. */
  environment: string | null;
}

/** Options that take a value, for the common readers, so the value is not mistaken for a file. */
const READER_WITH_VALUE: Record<string, string> = { head: 'nc', tail: 'nc', grep: 'efmABCD', tar: 'fCTXbN', base64: 'w', xxd: 'cglos', gzip: 'S', zip: 'P', openssl: '', jq: '', cut: 'dfbc', awk: 'Fvf', sed: 'ef', dd: '', sort: 'kto', od: 'AjNtw', split: 'abln' };

export function inflow(command: SimpleCommand, withSubstitutions = true): Inflow {
  const files: Array<{ path: string; by: string }> = [];
  let environment: string | null = null;
  const sources = withSubstitutions ? feeders(command) : feeders({ ...command, substitutions: [] });
  for (const source of sources) {
    const name = source.argv[0] ? basename(source.argv[0]) : '';
    if (ENV_DUMPERS.has(name) && source.argv.length <= 2 && !source.argv.slice(1).some((a) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(a))) {
      if (name !== 'export' || source.argv[1] === '-p' || source.argv.length === 1) environment = source.argv.join(' ');
    }
    for (const file of stdinFiles(source)) files.push({ path: file, by: name || '<' });
    if (!name || ENV_DUMPERS.has(name) || name === 'echo' || name === 'printf') continue;
    if (name === 'dd') {
      for (const arg of source.argv) if (arg.startsWith('if=')) files.push({ path: arg.slice(3), by: 'dd' });
      continue;
    }
    const withValue = READER_WITH_VALUE[name] ?? '';
    const { operands } = getopt(source.argv.slice(1), { withValue, longWithValue: [] });
    const skip = name === 'grep' || name === 'egrep' || name === 'rg' || name === 'sed' || name === 'awk' || name === 'jq' ? 1 : 0;
    for (const operand of operands.slice(skip)) {
      if (operand.includes(UNKNOWN) || operand.includes(SUBST)) continue;
      files.push({ path: operand, by: name });
    }
  }
  return { files, environment };
}
