/**
 * The scanner: normalise the text into views, find every rule keyword in one pass per view, run
 * each rule's pattern only in windows around its keywords, check the candidates (entropy,
 * placeholders, checksums, structure) and return findings that carry a masked excerpt only.
 *
 * Used by the payload guard (scanPayload: secrets and PII, per policy) and by the Bash-egress hook
 * (scanText: the same table over a command line or a file's contents). Keep this module and its
 * imports free of heavy dependencies: the hook loads it on every tool call.
 */
import { KeywordIndex } from './keywords.ts';
import { mask } from './mask.ts';
import { textViews, type NormalizeLimits, DEFAULT_LIMITS } from './normalize.ts';
import { PII_KINDS, PII_RULES, phoneKey, type PiiKind } from './pii.ts';
import { SECRET_RULES, type Detector } from './rules.ts';
import { isPlaceholder, shannonEntropy, VALIDATORS } from './validators.ts';

export type Mode = 'block' | 'warn' | 'off';
export type PiiPolicy = Mode | Partial<Record<PiiKind, Mode>>;

export interface ScanOptions {
  /** What a secret finding does; default block. */
  secrets?: Mode;
  /** A mode for card / ssn / iban (e-mail and phone stay off), or one mode per kind. */
  pii?: PiiPolicy;
  /** Addresses that belong to the message itself (sender, recipients): not PII findings. */
  ignoreAddresses?: readonly string[];
  /** Stop after this many findings (default 1000). */
  maxFindings?: number;
  /** Normalisation limits (depth, derived size); `false` scans the raw text only. */
  normalize?: NormalizeLimits | false;
}

export interface Finding {
  kind: 'secret' | 'pii';
  /** The detector's id (pii-email, github-token, ...). */
  ruleId: string;
  description: string;
  /** A few leading characters and the length; never the value itself. */
  masked: string;
  action: 'block' | 'warn';
  /** Where the value starts in the scanned text (raw view only). */
  offset?: number;
  /** The view it was found in: "raw", or how it was decoded ("json", "markup>percent"...). */
  view: string;
  piiKind?: PiiKind;
}

interface Compiled {
  detector: Detector;
  kind: 'secret' | 'pii';
  piiKind?: PiiKind;
  check: (secret: string, match: RegExpExecArray) => boolean | string;
  before: number;
  after: number;
  /** Anchored rules: the sticky twin of the pattern, the step-back character set and prefix. */
  sticky?: RegExp;
  backChars?: Uint8Array;
  back?: number;
  prefix?: string;
  prefixRequired?: boolean;
  then?: string;
}

function compile(detector: Detector, kind: 'secret' | 'pii', check: Compiled['check'], piiKind?: PiiKind): Compiled {
  const entry: Compiled = { detector, kind, check, before: detector.window?.before ?? 4, after: detector.window?.after ?? 320 };
  if (piiKind) entry.piiKind = piiKind;
  const anchor = detector.anchor;
  if (anchor) {
    entry.sticky = new RegExp(detector.pattern.source, detector.pattern.flags.replace('g', '') + 'y');
    const backChars = new Uint8Array(128);
    if (anchor.chars) {
      const cls = new RegExp(`[${anchor.chars}]`);
      for (let c = 0; c < 128; c++) backChars[c] = cls.test(String.fromCharCode(c)) ? 1 : 0;
    }
    entry.backChars = backChars;
    entry.back = anchor.back;
    entry.prefix = anchor.prefix ?? '';
    entry.prefixRequired = anchor.prefixRequired === true;
    if (anchor.then) entry.then = anchor.then;
  }
  return entry;
}

interface Engine {
  compiled: Compiled[];
  index: KeywordIndex;
  /** keyword id -> detector indexes */
  byKeyword: number[][];
}

let engine: Engine | undefined;

function getEngine(): Engine {
  if (engine) return engine;
  const compiled: Compiled[] = [];
  for (const detector of SECRET_RULES) {
    const validator = detector.validator ? VALIDATORS[detector.validator] : undefined;
    if (detector.validator && !validator) throw new Error(`rule ${detector.id}: unknown validator ${detector.validator}`);
    compiled.push(compile(detector, 'secret', validator ?? (() => true)));
  }
  for (const detector of PII_RULES) compiled.push(compile(detector, 'pii', detector.check, detector.piiKind));
  const keywords: string[] = [];
  const keywordIds = new Map<string, number>();
  const byKeyword: number[][] = [];
  compiled.forEach((entry, i) => {
    if (!entry.detector.pattern.global) throw new Error(`rule ${entry.detector.id}: pattern needs the g flag`);
    for (const raw of entry.detector.keywords) {
      const keyword = raw.toLowerCase();
      let id = keywordIds.get(keyword);
      if (id === undefined) {
        id = keywords.length;
        keywords.push(keyword);
        keywordIds.set(keyword, id);
        byKeyword.push([]);
      }
      byKeyword[id]!.push(i);
    }
  });
  engine = { compiled, index: new KeywordIndex(keywords), byKeyword };
  return engine;
}

export function piiModes(policy: PiiPolicy | undefined): Record<PiiKind, Mode> {
  if (policy === undefined) return { card: 'block', ssn: 'block', iban: 'block', email: 'off', phone: 'off' };
  if (typeof policy === 'string') return { card: policy, ssn: policy, iban: policy, email: 'off', phone: 'off' };
  return {
    card: policy.card ?? 'block',
    ssn: policy.ssn ?? 'block',
    iban: policy.iban ?? 'block',
    email: policy.email ?? 'off',
    phone: policy.phone ?? 'off',
  };
}

/** Spans already claimed in one view, bucketed so overlap checks stay O(1) on large inputs. */
class SpanSet {
  private readonly buckets = new Map<number, Array<[number, number]>>();
  overlaps(start: number, end: number): boolean {
    for (let b = start >> 8; b <= (end - 1) >> 8; b++) {
      const list = this.buckets.get(b);
      if (list && list.some(([s, e]) => s < end && start < e)) return true;
    }
    return false;
  }
  add(start: number, end: number): void {
    for (let b = start >> 8; b <= (end - 1) >> 8; b++) {
      let list = this.buckets.get(b);
      if (!list) this.buckets.set(b, (list = []));
      list.push([start, end]);
    }
  }
}

function secretOf(match: RegExpExecArray, groups: readonly number[] | undefined): string | undefined {
  if (groups) {
    for (const g of groups) if (match[g] !== undefined) return match[g];
    return undefined;
  }
  return match.length > 1 ? match[1] : match[0];
}

interface ScanState {
  actions: Array<Mode>;
  verdicts: Array<Map<string, boolean | string> | undefined>;
  ignore: Set<string>;
  ignorePhones: Set<string>;
  found: Map<string, Finding>;
  max: number;
}

function scanView(text: string, viewName: string, state: ScanState): void {
  const { compiled, index, byKeyword } = getEngine();
  const n = text.length;
  if (n === 0) return;
  // Per detector: windows [start, end, start, end...] merged as hits arrive, or anchor positions.
  const windows: number[][] = compiled.map(() => []);
  compiled.forEach((entry, i) => {
    if (state.actions[i] !== 'off' && entry.detector.keywords.length === 0) windows[i]!.push(0, n);
  });
  index.scan(text, (keywordId, position) => {
    for (const i of byKeyword[keywordId]!) {
      if (state.actions[i] === 'off') continue;
      const entry = compiled[i]!;
      const list = windows[i]!;
      if (entry.sticky) {
        if (entry.then !== undefined && !assignmentFollows(text, position + index.keywords[keywordId]!.length, entry)) continue;
        let start = position;
        const floor = Math.max(0, position - entry.back!);
        while (start > floor) {
          const c = text.charCodeAt(start - 1);
          if (c >= 128 || entry.backChars![c] !== 1) break;
          start--;
        }
        const hasPrefix = start > 0 && entry.prefix!.includes(text[start - 1]!);
        if (entry.prefixRequired && !hasPrefix) continue;
        const recent = Math.max(0, list.length - 6);
        // With the prefix ("key": ...) first; the bare key as a fallback ("text":"api_key = ...").
        if (hasPrefix && !list.includes(start - 1, recent)) list.push(start - 1);
        if (!entry.prefixRequired && !list.includes(start, recent)) list.push(start);
        continue;
      }
      const start = Math.max(0, position - entry.before);
      const end = Math.min(n, position + entry.after);
      const last = list.length - 1;
      if (last > 0 && list[last]! >= start) {
        if (end > list[last]!) list[last] = end;
        if (start < list[last - 1]!) {
          // Hits arrive in order of their END, so a longer keyword can start before the last
          // window: extend it backwards and fold any earlier window it now reaches.
          list[last - 1] = start;
          while (list.length >= 4 && list[list.length - 3]! >= list[list.length - 2]!) {
            const s = list[list.length - 2]!;
            const e = list[list.length - 1]!;
            list.length -= 2;
            list[list.length - 2] = Math.min(list[list.length - 2]!, s);
            list[list.length - 1] = Math.max(list[list.length - 1]!, e);
          }
        }
      } else {
        list.push(start, end);
      }
    }
  });

  const claimed = new SpanSet();
  for (let i = 0; i < compiled.length; i++) {
    const list = windows[i]!;
    if (list.length === 0) continue;
    const entry = compiled[i]!;
    if (entry.sticky) {
      const sticky = entry.sticky;
      let reached = -1;
      for (const start of list) {
        if (start < reached) continue; // inside the previous match
        sticky.lastIndex = start;
        const match = sticky.exec(text);
        if (!match) continue;
        reached = start + match[0].length;
        if (consider(entry, i, match, 0, viewName, state, claimed)) return;
      }
      continue;
    }
    const pattern = entry.detector.pattern;
    for (let w = 0; w < list.length; w += 2) {
      const from = list[w]!;
      const to = list[w + 1]!;
      const slice = from === 0 && to === n ? text : text.slice(from, to);
      pattern.lastIndex = 0;
      for (let match = pattern.exec(slice); match; match = pattern.exec(slice)) {
        if (match[0].length === 0) pattern.lastIndex++;
        if (consider(entry, i, match, from, viewName, state, claimed)) return;
      }
    }
  }
}

/**
 * The checks a candidate must pass (entropy, allow list, validator, placeholders), memoised per
 * scan: a payload that repeats one near-match a hundred thousand times pays for one check.
 */
function verdictFor(entry: Compiled, i: number, match: RegExpExecArray, secret: string, state: ScanState): boolean | string {
  // Validators look at the match only (never at the text around it), so the match is the key.
  let cache = state.verdicts[i];
  if (!cache) cache = state.verdicts[i] = new Map();
  const cacheable = match[0].length <= 2048;
  if (cacheable) {
    const cached = cache.get(match[0]);
    if (cached !== undefined) return cached;
  }
  const verdict = computeVerdict(entry, match, secret);
  if (cacheable && cache.size < 20_000) cache.set(match[0], verdict);
  return verdict;
}

function computeVerdict(entry: Compiled, match: RegExpExecArray, secret: string): boolean | string {
  const { detector } = entry;
  if (detector.minEntropy !== undefined && shannonEntropy(secret) < detector.minEntropy) return false;
  if (detector.allow?.some((allow) => allow.test(secret))) return false;
  const verdict = entry.check(secret, match);
  if (verdict === false) return false;
  if (!detector.noPlaceholderCheck && isPlaceholder(typeof verdict === 'string' ? verdict : secret)) return false;
  return verdict;
}

/** After the rest of a key, an optional quote and a few spaces: is the next character an assignment? */
function assignmentFollows(text: string, from: number, entry: Compiled): boolean {
  let i = from;
  const limit = Math.min(text.length, from + 40);
  while (i < limit) {
    const c = text.charCodeAt(i);
    if (c >= 128 || entry.backChars![c] !== 1) break;
    i++;
  }
  if (text[i] === '"' || text[i] === "'") i++;
  for (let k = 0; k < 3 && (text[i] === '*' || text[i] === '_'); k++) i++; // markdown: **password**: x
  for (let k = 0; k < 5 && (text[i] === ' ' || text[i] === '\t'); k++) i++;
  return i < text.length && entry.then!.includes(text[i]!);
}

/** Check one match and record it; true when the finding limit is reached. */
function consider(entry: Compiled, i: number, match: RegExpExecArray, from: number, viewName: string, state: ScanState, claimed: SpanSet): boolean {
  const { detector } = entry;
  let secret = secretOf(match, detector.groups);
  if (secret === undefined || secret.length === 0) return false;
  let at = from + match.index + Math.max(0, match[0].indexOf(secret));
  const verdict = verdictFor(entry, i, match, secret, state);
  if (verdict === false) return false;
  if (typeof verdict === 'string' && verdict !== secret) {
    const inMatch = match[0].indexOf(verdict);
    if (inMatch >= 0) at = from + match.index + inMatch;
    secret = verdict;
  }
  if (entry.kind === 'pii' && isOwnAddress(entry.piiKind!, secret, state)) return false;
  const end = at + secret.length;
  if (claimed.overlaps(at, end)) return false;
  claimed.add(at, end);
  if (state.found.has(secret)) return false;
  const mode = state.actions[i]!;
  const finding: Finding = {
    kind: entry.kind,
    ruleId: detector.id,
    description: detector.description,
    masked: mask(secret),
    action: mode === 'warn' ? 'warn' : 'block',
    view: viewName,
  };
  if (viewName === 'raw') finding.offset = at;
  if (entry.piiKind) finding.piiKind = entry.piiKind;
  state.found.set(secret, finding);
  return state.found.size >= state.max;
}

function isOwnAddress(kind: PiiKind, value: string, state: ScanState): boolean {
  if (kind === 'email') return state.ignore.has(value.toLowerCase());
  if (kind === 'phone') return state.ignorePhones.has(phoneKey(value));
  return false;
}

/** Scan text with explicit modes. Findings are masked; the order is the rule table's, raw view first. */
export function scanText(text: string, options: ScanOptions = {}): Finding[] {
  const secrets = options.secrets ?? 'block';
  const pii = piiModes(options.pii ?? 'off');
  const { compiled } = getEngine();
  const actions = compiled.map((entry) => (entry.kind === 'secret' ? secrets : pii[entry.piiKind!]));
  if (actions.every((action) => action === 'off')) return [];
  const ignore = new Set<string>();
  const ignorePhones = new Set<string>();
  for (const address of options.ignoreAddresses ?? []) {
    const bare = address.trim().replace(/^(?:mailto|xmpp):/i, '').replace(/\/.*$/, '').toLowerCase();
    if (bare) ignore.add(bare);
    const digits = phoneKey(address);
    if (digits.length >= 7 && !/[a-z]/i.test(address.replace(/^tel:/i, ''))) ignorePhones.add(digits);
  }
  const state: ScanState = { actions, verdicts: [], ignore, ignorePhones, found: new Map(), max: options.maxFindings ?? 1000 };
  const views = options.normalize === false ? [{ source: 'raw', text }] : textViews(text, options.normalize ?? DEFAULT_LIMITS);
  for (const view of views) {
    scanView(view.text, view.source, state);
    if (state.found.size >= state.max) break;
  }
  return [...state.found.values()];
}

/** The payload guard's scan: secrets and PII per policy (defaults: block secrets, block card / SSN / IBAN). */
export function scanPayload(text: string, options: ScanOptions = {}): Finding[] {
  return scanText(text, { ...options, secrets: options.secrets ?? 'block', pii: options.pii ?? 'block' });
}

/** "github-token ghp_…(40 chars), pii-iban DE89…(22 chars)" — ids and masked excerpts only. */
export function describeFindings(findings: readonly Finding[], limit = 5): string {
  const shown = findings.slice(0, limit).map((finding) => `${finding.ruleId} ${finding.masked}`);
  if (findings.length > limit) shown.push(`and ${findings.length - limit} more`);
  return shown.join(', ');
}

export { PII_KINDS };
