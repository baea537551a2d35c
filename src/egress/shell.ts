/**
 * A small, bounded Bash reader for the PreToolUse hook: splits a command line into the simple
 * commands it would run, the way the shell would see them, so the egress detector can look at
 * each one. It is not a shell: it never executes anything, and whatever it cannot know statically
 * (a variable set elsewhere, the output of a command substitution) becomes UNKNOWN in the text.
 *
 * What it understands: `;` `&&` `||` `|` `|&` `&` and newlines; subshells and groups; quotes
 * ('...', "...", $'...'), backslash escapes and line continuations; comments; redirections
 * (including here-documents and here-strings, whose text is kept); `$(...)`, backticks and
 * `<(...)`/`>(...)` (parsed recursively: their commands are commands too, and they "feed" the
 * command whose word they appear in); variables assigned earlier in the same command line; and
 * the wrappers that run another command: sudo, doas, env, timeout, nice, nohup, setsid, stdbuf,
 * ionice, chrt, taskset, time, command, exec, builtin, xargs, watch, flock, su/runuser -c,
 * `bash|sh|zsh|dash|ksh -c '...'` (and a shell reading a here-document or an echoed script on
 * stdin), eval, find -exec, sshpass, torsocks, proxychains, strace/ltrace, unbuffer, parallel.
 *
 * Work is bounded: input length, nesting depth and the number of commands are capped, and a
 * result that hit a cap says so (`complete: false`), so the caller can fail closed.
 */

/** Stands in for text only known at run time: $VAR with no known value, items from xargs / find -exec. */
export const UNKNOWN = '\u0001';
/** Stands in for the output of a command substitution ($(...), backticks): data computed by another command. */
export const SUBST = '\u0002';
/** An unknown named variable is written UNKNOWN + NAME + VAR_END, so checks can see which variable it was. */
export const VAR_END = '\u0003';

/** The names of the unknown variables a word refers to. */
export function variablesIn(word: string): string[] {
  return [...word.matchAll(/\u0001([A-Za-z_][A-Za-z0-9_]*)\u0003/g)].map((m) => m[1]!);
}

/** A word for display: unknown variables as $NAME, substitutions as $(...). */
export function displayWord(word: string): string {
  return word.replace(/\u0001([A-Za-z_][A-Za-z0-9_]*)\u0003/g, '$$$1').replace(/\u0001/g, '$?').replace(/\u0002/g, '$(...)').replace(/\u0003/g, '');
}

export interface Redirect {
  /** The file descriptor written before the operator (2>file), or null for the default. */
  fd: number | null;
  op: string;
  /** The file name (or here-string text, or here-document delimiter). */
  target: string;
  /** Here-document body (<<, <<-) or here-string (<<<) text: what the command reads on stdin. */
  text?: string;
}

export interface SimpleCommand {
  /** Words after quote removal and the expansions known statically; UNKNOWN marks the rest. */
  argv: string[];
  /** NAME=value prefixes (and env NAME=value) that apply to this command. */
  assignments: Array<[string, string]>;
  redirects: Redirect[];
  /** The previous stage of the pipeline (every command of it, for a group) this command reads on stdin. */
  stdinFrom: SimpleCommand[];
  /** Commands whose output is substituted into this command's words ($(...), backticks, <(...)). */
  substitutions: SimpleCommand[];
  /** Wrappers stripped to reach argv (sudo, timeout, bash -c, ...), outermost first. */
  wrappers: string[];
  /** Nesting depth (0 = top level). */
  depth: number;
}

export interface ParsedCommandLine {
  commands: SimpleCommand[];
  /** False when a bound was hit or the text could not be read to its end: callers fail closed. */
  complete: boolean;
  problems: string[];
}

export interface ShellOptions {
  maxLength?: number;
  maxDepth?: number;
  maxCommands?: number;
  /** Variables known before the command runs (tests; the hook passes none). */
  vars?: Record<string, string>;
}

const DEFAULTS = { maxLength: 256 * 1024, maxDepth: 8, maxCommands: 4000 };

interface Context {
  opts: Required<Omit<ShellOptions, 'vars'>>;
  vars: Map<string, string>;
  commands: SimpleCommand[];
  seen: Set<SimpleCommand>;
  made: number;
  problems: string[];
  complete: boolean;
}

export function parseCommandLine(text: string, options: ShellOptions = {}): ParsedCommandLine {
  const opts = { ...DEFAULTS, ...options };
  const ctx: Context = {
    opts: { maxLength: opts.maxLength, maxDepth: opts.maxDepth, maxCommands: opts.maxCommands },
    vars: new Map(Object.entries(options.vars ?? {})),
    commands: [],
    seen: new Set(),
    made: 0,
    problems: [],
    complete: true,
  };
  let source = text;
  if (source.length > ctx.opts.maxLength) {
    ctx.complete = false;
    ctx.problems.push(`the command is longer than ${ctx.opts.maxLength} characters`);
    source = source.slice(0, ctx.opts.maxLength);
  }
  parseScript(source, ctx, 0, null);
  return { commands: ctx.commands, complete: ctx.complete, problems: ctx.problems };
}

/* ------------------------------------------------------------------------------------------ */
/* Scanner                                                                                     */
/* ------------------------------------------------------------------------------------------ */

interface RawWord {
  value: string;
  /** Any quoting at all (so `''` is an empty word, and reserved words only count unquoted). */
  quoted: boolean;
  subs: SimpleCommand[];
}

interface PendingHeredoc {
  redirect: Redirect;
  delimiter: string;
  stripTabs: boolean;
}

class Parser {
  pos = 0;
  heredocs: PendingHeredoc[] = [];

  constructor(
    readonly src: string,
    readonly ctx: Context,
    readonly depth: number,
    /** ')' when parsing the inside of $( ... ) or ( ... ); null at top level. */
    readonly terminator: string | null,
  ) {}

  peek(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  budgetLeft(): boolean {
    if (this.ctx.made >= this.ctx.opts.maxCommands) {
      if (this.ctx.complete) this.ctx.problems.push(`more than ${this.ctx.opts.maxCommands} commands`);
      this.ctx.complete = false;
      return false;
    }
    return true;
  }

  skipBlanks(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && this.peek(1) === '\n') this.pos += 2;
      else break;
    }
  }

  /** Reads here-document bodies queued on the line that just ended (pos is just past the newline). */
  readHeredocs(): void {
    for (const doc of this.heredocs) {
      const lines: string[] = [];
      for (;;) {
        if (this.atEnd()) {
          doc.redirect.text = lines.join('\n');
          break;
        }
        let end = this.src.indexOf('\n', this.pos);
        if (end < 0) end = this.src.length;
        let line = this.src.slice(this.pos, end);
        this.pos = Math.min(end + 1, this.src.length);
        if (doc.stripTabs) line = line.replace(/^\t+/, '');
        if (line === doc.delimiter || (this.terminator && line.startsWith(doc.delimiter) && line.slice(doc.delimiter.length).trim() === ')')) {
          if (line !== doc.delimiter) this.pos -= line.length - doc.delimiter.length + 1; // leave the ")" for the caller
          doc.redirect.text = lines.join('\n');
          break;
        }
        lines.push(line);
      }
    }
    this.heredocs = [];
  }

  /** Reads a word starting at pos; returns null when pos is at a metacharacter. */
  readWord(): RawWord | null {
    let value = '';
    let quoted = false;
    let any = false;
    const subs: SimpleCommand[] = [];
    for (;;) {
      if (this.atEnd()) break;
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '&' || c === '|') break;
      if (c === '<' || c === '>') {
        if (this.peek(1) === '(') {
          // Process substitution: its commands run; the word is a /dev/fd path.
          this.pos += 2;
          subs.push(...this.nested(')'));
          value += '/dev/fd/63';
          any = true;
          continue;
        }
        break;
      }
      if (c === '(' || c === ')') break;
      any = true;
      if (c === '\\') {
        const next = this.peek(1);
        if (next === '\n') {
          this.pos += 2;
          continue;
        }
        value += next;
        quoted = true;
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) {
          this.unterminated('single quote');
          value += this.src.slice(this.pos + 1);
          this.pos = this.src.length;
          break;
        }
        value += this.src.slice(this.pos + 1, end);
        quoted = true;
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        this.pos++;
        value += this.readDoubleQuoted(subs);
        quoted = true;
        continue;
      }
      if (c === '$') {
        if (this.peek(1) === "'") {
          this.pos += 2;
          value += this.readAnsiC();
          quoted = true;
          continue;
        }
        if (this.peek(1) === '"') {
          // $"..." (locale translation) is a double-quoted string.
          this.pos += 2;
          value += this.readDoubleQuoted(subs);
          quoted = true;
          continue;
        }
      }
      value += this.readPiece(subs);
    }
    return any ? { value, quoted, subs } : null;
  }

  /**
   * The next piece of a word, unquoted or inside double quotes (where quotes and escapes were already
   * handled): at a `$` or a backtick the expansion, with the commands a substitution runs recorded
   * in `subs` and its statically known text returned (or UNKNOWN / SUBST); else the one character.
   */
  readPiece(subs: SimpleCommand[]): string {
    const c = this.peek();
    if (c === '$') return this.readDollar(subs);
    this.pos++;
    return c === '`' ? this.readBackticks(subs) : c;
  }

  unterminated(what: string): void {
    this.ctx.complete = false;
    this.ctx.problems.push(`unterminated ${what}`);
  }

  readDoubleQuoted(subs: SimpleCommand[]): string {
    let value = '';
    for (;;) {
      if (this.atEnd()) {
        this.unterminated('double quote');
        return value;
      }
      const c = this.peek();
      if (c === '"') {
        this.pos++;
        return value;
      }
      if (c === '\\') {
        const next = this.peek(1);
        if (next === '\n') this.pos += 2;
        else if (next === '$' || next === '`' || next === '"' || next === '\\') {
          value += next;
          this.pos += 2;
        } else {
          value += '\\';
          this.pos++;
        }
        continue;
      }
      value += this.readPiece(subs);
    }
  }

  readAnsiC(): string {
    let value = '';
    for (;;) {
      if (this.atEnd()) {
        this.unterminated("$'...' quote");
        return value;
      }
      const c = this.peek();
      if (c === "'") {
        this.pos++;
        return value;
      }
      if (c !== '\\') {
        value += c;
        this.pos++;
        continue;
      }
      const n = this.peek(1);
      this.pos += 2;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
      if (n in simple) value += simple[n];
      else if (n === 'x') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos));
        if (m) {
          value += String.fromCharCode(parseInt(m[0], 16));
          this.pos += m[0].length;
        } else value += '\\x';
      } else if (n === 'u' || n === 'U') {
        const m = (n === 'u' ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/).exec(this.src.slice(this.pos));
        if (m) {
          const cp = parseInt(m[0], 16);
          value += cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
          this.pos += m[0].length;
        } else value += `\\${n}`;
      } else if (/[0-7]/.test(n)) {
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))!;
        value += String.fromCharCode(parseInt(n + m[0], 8) & 0xff);
        this.pos += m[0].length;
      } else if (n === 'c') {
        value += String.fromCharCode(this.peek().charCodeAt(0) & 0x1f);
        this.pos++;
      } else value += `\\${n}`;
    }
  }

  /** At a `$`: expansions. Returns the statically known text, or UNKNOWN. */
  readDollar(subs: SimpleCommand[]): string {
    const next = this.peek(1);
    if (next === '(' && this.peek(2) === '(') {
      // Arithmetic: no commands run (command substitutions inside are rare; skip to the match).
      const end = this.matchParens(this.pos + 1);
      this.pos = end;
      return UNKNOWN;
    }
    if (next === '(') {
      this.pos += 2;
      const inner = this.nested(')');
      subs.push(...inner);
      return staticOutput(inner) ?? SUBST;
    }
    if (next === '{') {
      let depthBraces = 0;
      let i = this.pos + 1;
      for (; i < this.src.length; i++) {
        const ch = this.src.charAt(i);
        if (ch === '\\') {
          i++;
          continue;
        }
        if (ch === '{') depthBraces++;
        else if (ch === '}') {
          depthBraces--;
          if (depthBraces === 0) break;
        }
      }
      if (i >= this.src.length) {
        this.unterminated('${');
        this.pos = this.src.length;
        return UNKNOWN;
      }
      const body = this.src.slice(this.pos + 2, i);
      this.pos = i + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])(.*))?$/s.exec(body);
      if (m) {
        const known = this.ctx.vars.get(m[1]!);
        if (known !== undefined && !(m[2]?.startsWith(':') && known === '')) return known;
        if (m[2] && m[3] !== undefined && !/[$`]/.test(m[3])) return m[3];
        return UNKNOWN + m[1] + VAR_END;
      }
      const named = /^[#!]?([A-Za-z_][A-Za-z0-9_]*)/.exec(body);
      return named ? UNKNOWN + named[1] + VAR_END : UNKNOWN;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos + 1));
    if (name) {
      this.pos += 1 + name[0].length;
      return this.ctx.vars.get(name[0]) ?? UNKNOWN + name[0] + VAR_END;
    }
    if (/^[0-9@*#?$!-]$/.test(next)) {
      this.pos += 2;
      return UNKNOWN;
    }
    this.pos++;
    return '$';
  }

  readBackticks(subs: SimpleCommand[]): string {
    let inner = '';
    for (;;) {
      if (this.atEnd()) {
        this.unterminated('backtick');
        break;
      }
      const c = this.peek();
      if (c === '`') {
        this.pos++;
        break;
      }
      if (c === '\\' && (this.peek(1) === '`' || this.peek(1) === '\\' || this.peek(1) === '$')) {
        inner += this.peek(1);
        this.pos += 2;
        continue;
      }
      inner += c;
      this.pos++;
    }
    const commands = this.sub(inner);
    subs.push(...commands);
    return staticOutput(commands) ?? SUBST;
  }

  /** Index just past the parenthesis that closes the one at `open`. */
  matchParens(open: number): number {
    let level = 0;
    for (let i = open; i < this.src.length; i++) {
      const ch = this.src.charAt(i);
      if (ch === '\\') {
        i++;
        continue;
      }
      if (ch === "'") {
        const end = this.src.indexOf("'", i + 1);
        if (end < 0) break;
        i = end;
        continue;
      }
      if (ch === '(') level++;
      else if (ch === ')') {
        level--;
        if (level === 0) return i + 1;
      }
    }
    this.unterminated('parenthesis');
    return this.src.length;
  }

  /** Parses the inside of $( ... ) or ( ... ) in place; pos ends just past the closing ')'. */
  nested(terminator: string): SimpleCommand[] {
    if (this.depth + 1 > this.ctx.opts.maxDepth) {
      this.tooDeep();
      this.pos = this.matchParens(this.pos - 1);
      return [];
    }
    const inner = new Parser(this.src, this.ctx, this.depth + 1, terminator);
    inner.pos = this.pos;
    const commands = inner.parseList();
    this.pos = inner.pos;
    if (this.peek() === terminator) this.pos++;
    else this.unterminated('command substitution');
    return commands;
  }

  /** Parses a separate piece of shell text (backticks, bash -c, eval, a here-document script). */
  sub(text: string): SimpleCommand[] {
    if (this.depth + 1 > this.ctx.opts.maxDepth) {
      this.tooDeep();
      return [];
    }
    return parseScript(text, this.ctx, this.depth + 1, null);
  }

  tooDeep(): void {
    if (this.ctx.complete) this.ctx.problems.push(`nested more than ${this.ctx.opts.maxDepth} levels deep`);
    this.ctx.complete = false;
  }

  /** Parses a list of pipelines until the end of the text or the terminator; returns every simple command. */
  parseList(): SimpleCommand[] {
    const all: SimpleCommand[] = [];
    let words: RawWord[] = [];
    let redirects: Redirect[] = [];
    let pipeFrom: SimpleCommand[] = [];
    let groupStart = 0; // index in `all` where the current pipeline stage began

    const finish = (): SimpleCommand[] => {
      const stage = all.length;
      if (words.length || redirects.length) {
        const made = this.finishCommand(words, redirects, pipeFrom);
        this.ctx.made += made.length;
        all.push(...made);
      }
      words = [];
      redirects = [];
      return all.slice(stage);
    };

    for (;;) {
      if (!this.budgetLeft()) {
        this.pos = this.src.length;
        break;
      }
      this.skipBlanks();
      if (this.atEnd()) {
        finish();
        break;
      }
      const c = this.peek();
      if (this.terminator && c === this.terminator) {
        finish();
        break;
      }
      if (c === '#' && words.length === 0 && redirects.length === 0) {
        const end = this.src.indexOf('\n', this.pos);
        this.pos = end < 0 ? this.src.length : end;
        continue;
      }
      if (c === '#' && words.length > 0) {
        // A "#" that begins a word starts a comment (after a blank).
        const prev = this.src.charAt(this.pos - 1);
        if (prev === ' ' || prev === '\t') {
          const end = this.src.indexOf('\n', this.pos);
          this.pos = end < 0 ? this.src.length : end;
          continue;
        }
      }
      if (c === '\n') {
        finish();
        pipeFrom = [];
        this.pos++;
        if (this.heredocs.length) {
          this.readHeredocs();
          this.flushDeferred(all);
        }
        groupStart = all.length;
        continue;
      }
      if (c === ';' || (c === '&' && this.peek(1) !== '>')) {
        // ; ;; & && (and ;& ;;& in case)
        finish();
        pipeFrom = [];
        this.pos++;
        while (this.peek() === ';' || this.peek() === '&') this.pos++;
        groupStart = all.length;
        continue;
      }
      if (c === '|') {
        const stage = finish();
        if (this.peek(1) === '|') {
          pipeFrom = [];
          this.pos += 2;
          groupStart = all.length;
          continue;
        }
        this.pos += this.peek(1) === '&' ? 2 : 1;
        // The next stage reads what this stage (all of it, for a group) wrote.
        pipeFrom = stage.length ? stage : all.slice(groupStart);
        groupStart = all.length;
        continue;
      }
      if (c === '(') {
        if (words.length > 0) {
          // name() { ...; }: a function definition; the body is parsed as commands.
          words = [];
          this.pos++;
          continue;
        }
        this.pos++;
        const stageStart = all.length;
        const inner = this.nested(')');
        for (const command of inner) if (command.stdinFrom.length === 0) command.stdinFrom = pipeFrom;
        all.push(...inner);
        groupStart = stageStart;
        continue;
      }
      if (c === ')') {
        // An unmatched ")" (a case pattern such as "a|b)"): a separator.
        finish();
        this.pos++;
        continue;
      }
      const redirect = this.readRedirect();
      if (redirect) {
        redirects.push(redirect);
        continue;
      }
      const word = this.readWord();
      if (!word) {
        // Should not happen; never loop forever.
        this.pos++;
        continue;
      }
      all.push(...word.subs);
      // Reserved words at the start of a command are syntax, not commands.
      if (words.length === 0 && !word.quoted && RESERVED.has(word.value)) {
        if (word.value === 'for' || word.value === 'select' || word.value === 'case') this.skipHeader(word.value);
        continue;
      }
      if (words.length === 0 && !word.quoted && (word.value === 'function')) {
        // function name { ...; }
        this.skipBlanks();
        this.readWord();
        continue;
      }
      words.push(word);
    }
    if (this.heredocs.length) this.readHeredocs();
    this.flushDeferred(all);
    return all;
  }

  /** Shells reading a here-document script: parse the body once it has been read. */
  flushDeferred(all: SimpleCommand[]): void {
    for (const { doc, command } of this.deferred) {
      if (doc.text) {
        all.push(...this.sub(doc.text));
        command.argv = [];
        command.wrappers.push('shell <here-document>');
      }
    }
    this.deferred = [];
  }

  /** `for x in a b c` / `select x in ...` / `case WORD in`: skip to the end of the header. */
  skipHeader(keyword: string): void {
    for (;;) {
      this.skipBlanks();
      if (this.atEnd()) return;
      const c = this.peek();
      if (c === '\n' || c === ';') return;
      if (c === '(' && keyword === 'for') {
        // for (( i=0; i<3; i++ ))
        this.pos = this.matchParens(this.pos);
        continue;
      }
      const word = this.readWord();
      if (!word) {
        this.pos++;
        continue;
      }
      if (keyword === 'case' && word.value === 'in') return;
    }
  }

  readRedirect(): Redirect | null {
    const rest = this.src.slice(this.pos, this.pos + 8);
    const m = /^(\d{1,2})?(<<<|<<-|<<|<>|<&|>>|>&|>\||&>>|&>|<|>)/.exec(rest);
    if (!m) return null;
    // A digit run is only an fd when the operator follows it immediately.
    const fd = m[1] ? Number(m[1]) : null;
    const op = m[2]!;
    this.pos += m[0].length;
    this.skipBlanks();
    if (op === '<<' || op === '<<-') {
      const word = this.readWord();
      const delimiter = word?.value ?? '';
      const redirect: Redirect = { fd, op, target: delimiter, text: '' };
      this.heredocs.push({ redirect, delimiter, stripTabs: op === '<<-' });
      return redirect;
    }
    const word = this.readWord();
    if (op === '<<<') return { fd, op, target: word?.value ?? '', text: word?.value ?? '' };
    return { fd, op, target: word?.value ?? '' };
  }

  finishCommand(rawWords: RawWord[], redirects: Redirect[], pipeFrom: SimpleCommand[]): SimpleCommand[] {
    const assignments: Array<[string, string]> = [];
    let i = 0;
    for (; i < rawWords.length; i++) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)$/s.exec(rawWords[i]!.value);
      if (!m) break;
      assignments.push([m[1]!, m[2]!]);
    }
    const argv = rawWords.slice(i).map((word) => word.value);
    const subs = rawWords.flatMap((word) => word.subs);
    if (argv.length === 0) {
      // Only assignments: they set shell variables for the rest of the line.
      for (const [name, value] of assignments) this.ctx.vars.set(name, value);
      if (redirects.length === 0) return [];
    }
    // export/declare/local/readonly NAME=value also set variables (and run nothing).
    if (argv[0] && DECLARE.has(argv[0])) {
      for (const arg of argv.slice(1)) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(arg);
        if (m) this.ctx.vars.set(m[1]!, m[2]!);
      }
    }
    const base: SimpleCommand = {
      argv,
      assignments,
      redirects,
      stdinFrom: pipeFrom,
      substitutions: subs,
      wrappers: [],
      depth: this.depth,
    };
    return this.unwrap(base);
  }

  /** Strips wrappers; a shell -c string, eval or watch is parsed into further commands. */
  unwrap(command: SimpleCommand): SimpleCommand[] {
    const out: SimpleCommand[] = [command];
    let guard = 0;
    for (;;) {
      if (++guard > 32) break;
      const argv = command.argv;
      if (argv.length === 0) break;
      const name = basename(argv[0]!);
      const strip = (count: number, wrapper = name): void => {
        command.argv = argv.slice(count);
        command.wrappers.push(wrapper);
      };
      const spec = WRAPPERS[name];
      if (spec) {
        const rest = skipOptions(argv, 1, spec);
        if (rest === null) break;
        let start = rest;
        if (name === 'env' || name === 'sudo' || name === 'doas') {
          // env NAME=value ... command
          while (start < argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[start]!)) {
            const eq = argv[start]!.indexOf('=');
            command.assignments.push([argv[start]!.slice(0, eq), argv[start]!.slice(eq + 1)]);
            start++;
          }
          if (name === 'env') {
            const split = optionValue(argv, 1, rest, ['-S', '--split-string']);
            if (split !== undefined) {
              const inner = this.sub(split + (start < argv.length ? ` ${argv.slice(start).map(quote).join(' ')}` : ''));
              this.inherit(inner, command);
              out.push(...inner);
              command.argv = [];
              break;
            }
          }
        }
        if (name === 'timeout') start++; // the duration
        if (name === 'chrt' && start < argv.length && /^\d+$/.test(argv[start]!)) start++;
        if (name === 'taskset') start++; // the mask or CPU list
        if (name === 'flock') {
          const commandString = optionValue(argv, 1, rest, ['-c', '--command']);
          if (commandString !== undefined) {
            const inner = this.sub(commandString);
            this.inherit(inner, command);
            out.push(...inner);
            command.argv = [];
            break;
          }
          start++; // the lock file
        }
        if (name === 'command' && argv.slice(1, rest).some((a) => /^-[a-zA-Z]*[vV]/.test(a))) {
          command.argv = []; // command -v NAME: a lookup, runs nothing
          break;
        }
        if (name === 'watch') {
          const inner = this.sub(argv.slice(start).join(' '));
          this.inherit(inner, command);
          out.push(...inner);
          command.argv = [];
          break;
        }
        if (name === 'xargs') {
          const items = optionValue(argv, 1, rest, ['-a', '--arg-file']);
          if (start >= argv.length) {
            command.argv = ['echo'];
            command.wrappers.push('xargs');
            break;
          }
          command.argv = [...argv.slice(start), UNKNOWN];
          command.wrappers.push(items ? `xargs -a ${items}` : 'xargs');
          continue;
        }
        strip(start);
        continue;
      }
      if (SHELLS.has(name)) {
        const parsed = shellInvocation(argv);
        if (parsed.kind === 'string') {
          const inner = this.sub(parsed.script);
          this.inherit(inner, command);
          out.push(...inner);
          command.wrappers.push(`${name} -c`);
          command.argv = [];
          break;
        }
        if (parsed.kind === 'stdin') {
          // A shell reading its script on stdin: a here-document / here-string, or an echoed string.
          const doc = command.redirects.find((r) => (r.op === '<<' || r.op === '<<-' || r.op === '<<<') && (r.fd === null || r.fd === 0));
          const script = doc?.text || (command.stdinFrom.length === 1 ? staticOutput(command.stdinFrom) : null);
          if (doc && doc.op !== '<<<' && !doc.text && this.heredocs.some((h) => h.redirect === doc)) {
            // The body comes after this line: parse it once it has been read.
            this.deferred.push({ doc, command, out });
          }
          if (script) {
            const inner = this.sub(displayWord(script));
            out.push(...inner);
            command.wrappers.push(`${name} <stdin>`);
            command.argv = [];
          }
        }
        break;
      }
      if (name === 'eval') {
        const inner = this.sub(argv.slice(1).join(' '));
        this.inherit(inner, command);
        out.push(...inner);
        command.argv = [];
        break;
      }
      if (name === 'su' || name === 'runuser') {
        const script = optionValue(argv, 1, argv.length, ['-c', '--command']);
        if (script !== undefined) {
          const inner = this.sub(script);
          this.inherit(inner, command);
          out.push(...inner);
          command.argv = [];
        }
        break;
      }
      if (name === 'find') {
        // find ... -exec CMD ... ; / + : CMD runs once per file.
        for (let k = 1; k < argv.length; k++) {
          if (/^-(exec|execdir|ok|okdir)$/.test(argv[k]!)) {
            let end = k + 1;
            while (end < argv.length && argv[end] !== ';' && argv[end] !== '+') end++;
            const innerArgv = argv.slice(k + 1, end).map((a) => a.replaceAll('{}', UNKNOWN));
            if (innerArgv.length) {
              const inner: SimpleCommand = { argv: innerArgv, assignments: [], redirects: [], stdinFrom: [], substitutions: [], wrappers: ['find -exec'], depth: this.depth };
              out.push(...this.unwrap(inner));
            }
            k = end;
          }
        }
        break;
      }
      if (name === 'parallel') {
        const sep = argv.findIndex((a) => a === ':::' || a === '::::');
        const cmd = argv.slice(1, sep < 0 ? argv.length : sep).filter((a, idx) => idx > 0 || !a.startsWith('-'));
        if (cmd.length) {
          const inner = this.sub(cmd.join(' ').replaceAll('{}', UNKNOWN));
          out.push(...inner);
        }
        break;
      }
      break;
    }
    return out;
  }

  deferred: Array<{ doc: Redirect; command: SimpleCommand; out: SimpleCommand[] }> = [];

  /** Commands from a -c string inherit the outer command's stdin and assignments. */
  inherit(inner: SimpleCommand[], outer: SimpleCommand): void {
    for (const command of inner) {
      if (command.stdinFrom.length === 0) command.stdinFrom = outer.stdinFrom;
      const stdin = outer.redirects.filter((r) => r.fd === null || r.fd === 0 ? r.op.startsWith('<') : false);
      if (stdin.length && !command.redirects.some((r) => r.op.startsWith('<'))) command.redirects.push(...stdin);
      command.assignments.unshift(...outer.assignments);
      command.wrappers.unshift(...outer.wrappers);
      command.substitutions.push(...outer.substitutions);
    }
  }
}

function parseScript(text: string, ctx: Context, depth: number, terminator: string | null): SimpleCommand[] {
  const parser = new Parser(text, ctx, depth, terminator);
  const commands = parser.parseList();
  for (const command of commands) {
    if (!ctx.seen.has(command)) {
      ctx.seen.add(command);
      ctx.commands.push(command);
    }
  }
  return commands;
}

/* ------------------------------------------------------------------------------------------ */
/* Tables                                                                                      */
/* ------------------------------------------------------------------------------------------ */

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'for', 'in', 'case', 'esac', 'select', '{', '}', '!', '[[', ']]', 'coproc']);
const DECLARE = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);
const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'ash', 'mksh', 'yash', 'fish', 'rbash', 'busybox']);

interface WrapperSpec {
  /** Short options that take a value (as the next word or attached). */
  withValue: string;
  /** Long options that take a value (as --opt=value or the next word). */
  longWithValue?: readonly string[];
  /** Stop at the first non-option (default true). */
  numericOption?: boolean;
}

const WRAPPERS: Record<string, WrapperSpec> = {
  sudo: { withValue: 'ughpCDrtUTR', longWithValue: ['--user', '--group', '--host', '--prompt', '--close-from', '--chdir', '--role', '--type', '--other-user', '--command-timeout', '--chroot'] },
  doas: { withValue: 'uC' },
  env: { withValue: 'uCS', longWithValue: ['--unset', '--chdir', '--split-string', '--block-signal', '--default-signal', '--ignore-signal'] },
  timeout: { withValue: 'sk', longWithValue: ['--signal', '--kill-after'] },
  nice: { withValue: 'n', longWithValue: ['--adjustment'], numericOption: true },
  nohup: { withValue: '' },
  setsid: { withValue: '' },
  stdbuf: { withValue: 'ioe', longWithValue: ['--input', '--output', '--error'] },
  ionice: { withValue: 'cnp', longWithValue: ['--class', '--classdata', '--pid'] },
  chrt: { withValue: 'T', longWithValue: ['--sched-runtime', '--sched-period', '--sched-deadline'] },
  taskset: { withValue: '' },
  time: { withValue: 'fo', longWithValue: ['--format', '--output'] },
  command: { withValue: '' },
  exec: { withValue: 'a' },
  builtin: { withValue: '' },
  xargs: { withValue: 'IiaEdLlnPs', longWithValue: ['--replace', '--arg-file', '--eof', '--delimiter', '--max-lines', '--max-args', '--max-procs', '--max-chars', '--process-slot-var'] },
  watch: { withValue: 'nq', longWithValue: ['--interval', '--equexit'] },
  flock: { withValue: 'wEc', longWithValue: ['--wait', '--timeout', '--conflict-exit-code', '--command'] },
  sshpass: { withValue: 'pfdPe' },
  torsocks: { withValue: 'uapP', longWithValue: ['--user', '--pass', '--address', '--port'] },
  proxychains: { withValue: 'f' },
  proxychains4: { withValue: 'f' },
  strace: { withValue: 'eoOpPsSuIEaXb', longWithValue: ['--output', '--trace', '--signal', '--attach', '--user'] },
  ltrace: { withValue: 'eoOpPsuaAn' },
  unbuffer: { withValue: '' },
  caffeinate: { withValue: 'tw' },
  nsenter: { withValue: 'tSGrw', longWithValue: ['--target', '--setuid', '--setgid', '--root', '--wd'] },
  chroot: { withValue: '', longWithValue: ['--userspec', '--groups'] },
  'ip-netns-exec': { withValue: '' },
  firejail: { withValue: '' },
  systemd_run: { withValue: 'pEu', longWithValue: ['--property', '--setenv', '--unit', '--uid', '--gid'] },
};

/** Index of the first operand after the options, or null when the wrapper has nothing to run. */
function skipOptions(argv: string[], from: number, spec: WrapperSpec): number | null {
  let i = from;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') return i + 1 < argv.length ? i + 1 : null;
    if (arg === '-' || !arg.startsWith('-')) break;
    if (spec.numericOption && /^-\d+$/.test(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('--')) {
      const name = arg.split('=')[0]!;
      i += !arg.includes('=') && spec.longWithValue?.includes(name) ? 2 : 1;
      continue;
    }
    // A cluster of short options: the first that takes a value takes the rest (or the next word).
    let consumedNext = false;
    for (let k = 1; k < arg.length; k++) {
      if (spec.withValue.includes(arg.charAt(k))) {
        if (k === arg.length - 1) consumedNext = true;
        break;
      }
    }
    i += consumedNext ? 2 : 1;
  }
  return i < argv.length ? i : null;
}

/** The value of an option among argv[from..to) (short: -c VALUE / -cVALUE / clustered -lc VALUE; long: --opt=V / --opt V). */
function optionValue(argv: string[], from: number, to: number, names: readonly string[]): string | undefined {
  const shorts = names.filter((n) => /^-[A-Za-z]$/.test(n)).map((n) => n.charAt(1));
  const longs = names.filter((n) => n.startsWith('--'));
  for (let i = from; i < Math.min(to, argv.length); i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      const [name, ...value] = arg.split('=');
      if (longs.includes(name!)) return value.length ? value.join('=') : argv[i + 1];
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        if (shorts.includes(arg.charAt(k))) return k < arg.length - 1 ? arg.slice(k + 1) : argv[i + 1];
      }
    }
  }
  return undefined;
}

/** How a shell was invoked: with a -c string, reading stdin, or running a script file. */
function shellInvocation(argv: string[]): { kind: 'string'; script: string } | { kind: 'stdin' } | { kind: 'file'; path: string } | { kind: 'other' } {
  let i = 1;
  if (basename(argv[0]!) === 'busybox') {
    if (!SHELLS.has(argv[1] ?? '') || argv[1] === 'busybox') return { kind: 'other' };
    i = 2;
  }
  let wantsString = false;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || arg === '-') {
      i++;
      break;
    }
    if (arg === '-o' || arg === '+o' || arg === '-O' || arg === '+O' || arg === '--rcfile' || arg === '--init-file') {
      i++;
      continue;
    }
    if (arg.startsWith('--')) continue;
    if (/^[-+][A-Za-z]+$/.test(arg)) {
      if (arg.startsWith('-') && arg.includes('c')) wantsString = true;
      if (arg.startsWith('-') && arg.includes('s')) return { kind: 'stdin' };
      continue;
    }
    break;
  }
  if (wantsString) return i < argv.length ? { kind: 'string', script: argv[i]! } : { kind: 'other' };
  if (i >= argv.length) return { kind: 'stdin' };
  return { kind: 'file', path: argv[i]! };
}

/** What a substitution prints when that is knowable without running anything (echo / printf of literals). */
function staticOutput(commands: SimpleCommand[]): string | null {
  if (commands.length !== 1) return null;
  const [command] = commands;
  const argv = command!.argv;
  if (argv.length === 0) return null;
  const name = basename(argv[0]!);
  if (name === 'echo') {
    let args = argv.slice(1);
    let escapes = false;
    while (args[0] && /^-[neE]+$/.test(args[0])) {
      if (args[0].includes('e')) escapes = true;
      args = args.slice(1);
    }
    const text = args.join(' ');
    return escapes ? text.replace(/\\n/g, '\n').replace(/\\t/g, '\t') : text;
  }
  if (name === 'printf' && argv.length >= 2) {
    const format = argv[1]!;
    if (format === '%s' || format === '%s\\n' || format === '%s\n') return argv.slice(2).join('');
    if (!format.includes('%')) return format.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  }
  return null;
}

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}

/** Every command whose output can reach `command`: its pipeline predecessors and substitutions, transitively. */
export function feeders(command: SimpleCommand, limit = 64): SimpleCommand[] {
  const seen = new Set<SimpleCommand>();
  const queue: SimpleCommand[] = [...command.stdinFrom, ...command.substitutions];
  while (queue.length && seen.size < limit) {
    const next = queue.shift()!;
    if (seen.has(next) || next === command) continue;
    seen.add(next);
    queue.push(...next.stdinFrom, ...next.substitutions);
  }
  return [...seen];
}
