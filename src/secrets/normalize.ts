/**
 * Undo the wrappings a payload can hide a secret in, producing extra text views to scan next to
 * the raw text: JSON string escapes (and JSON nested in JSON strings, one level per pass), XML/HTML
 * entities and markup, percent-encoding, quoted-printable, base64 values under secret-like keys
 * (Docker `auth`, Kubernetes Secret `data:`, MIME base64 parts, text data: URLs), tokens split by an
 * escaped newline, and invisible / full-width characters.
 *
 * Work is bounded: each transformation is one linear pass gated by a cheap trigger test, most of
 * them only touch the lines that contain their trigger, views nest at most MAX_DEPTH deep, and the
 * derived text in total never exceeds a budget proportional to the input.
 */
import { decodeBase64Text } from './validators.ts';

export interface TextView {
  /** How the view was derived: "raw", or transformation names joined by ">" (e.g. "json>base64"). */
  source: string;
  text: string;
}

export interface NormalizeLimits {
  /** Derivation depth (raw = 0). */
  maxDepth: number;
  /** Total characters of derived views: the larger of this and `perInputChar` times the input length. */
  maxDerivedChars: number;
  perInputChar?: number;
}

export const DEFAULT_LIMITS: NormalizeLimits = { maxDepth: 4, maxDerivedChars: 4 * 1024 * 1024, perInputChar: 2 };

type Transform = (text: string) => string | null;

/** Call fn once for every line that contains a match of trigger (a global regex). */
function forEachTriggeredLine(text: string, trigger: RegExp, fn: (line: string) => void): void {
  let searchFrom = 0;
  while (searchFrom < text.length) {
    trigger.lastIndex = searchFrom;
    const hit = trigger.exec(text);
    if (!hit) break;
    const start = text.lastIndexOf('\n', hit.index) + 1;
    let end = text.indexOf('\n', hit.index);
    if (end < 0) end = text.length;
    fn(text.slice(start, end));
    searchFrom = end + 1;
  }
}

/** Apply fn to every line that contains a match of trigger; return the changed lines joined, or null. */
function mapTriggeredLines(text: string, trigger: RegExp, fn: (line: string) => string): string | null {
  const out: string[] = [];
  forEachTriggeredLine(text, trigger, (line) => {
    const mapped = fn(line);
    if (mapped !== line) out.push(mapped);
  });
  return out.length > 0 ? out.join('\n') : null;
}

// --- JSON / JS / shell string escapes ----------------------------------------------------------

const SIMPLE_ESCAPES = new Map<number, number>([
  [0x6e, 0x0a], // n
  [0x72, 0x0d], // r
  [0x74, 0x09], // t
  [0x62, 0x08], // b
  [0x66, 0x0c], // f
  [0x76, 0x0b], // v
  [0x30, 0x00], // 0
  [0x27, 0x27], // '
  [0x22, 0x22], // "
  [0x5c, 0x5c], // backslash
  [0x2f, 0x2f], // /
  [0x60, 0x60], // `
  [0x24, 0x24], // $
]);

function hexValue(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0 || i >= text.length) return -1;
    value = value * 16 + d;
  }
  return value;
}

/**
 * One level of backslash unescaping (JSON, JavaScript, Python, shell double quotes): \n \" \\
 * \uXXXX \u{X} \xXX. One pass over char codes, linear however dense the escapes are.
 */
export function unescapeOnce(text: string): string {
  if (text.indexOf('\\') < 0) return text;
  const n = text.length;
  const out = new Uint16Array(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c || i + 1 >= n) {
      out[o++] = c;
      i++;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    const simple = SIMPLE_ESCAPES.get(next);
    if (simple !== undefined) {
      out[o++] = simple;
      i += 2;
    } else if (next === 0x75 /* u */ && text.charCodeAt(i + 2) === 0x7b /* { */) {
      const close = text.indexOf('}', i + 3);
      const value = close > 0 && close - i <= 9 ? hexValue(text, i + 3, close - i - 3) : -1;
      if (value >= 0 && value <= 0x10ffff) {
        const ch = String.fromCodePoint(value);
        for (let k = 0; k < ch.length; k++) out[o++] = ch.charCodeAt(k);
        i = close + 1;
      } else {
        out[o++] = c;
        i++;
      }
    } else if (next === 0x75 /* u */ && hexValue(text, i + 2, 4) >= 0) {
      out[o++] = hexValue(text, i + 2, 4);
      i += 6;
    } else if (next === 0x78 /* x */ && hexValue(text, i + 2, 2) >= 0) {
      out[o++] = hexValue(text, i + 2, 2);
      i += 4;
    } else {
      out[o++] = c;
      i++;
    }
  }
  // Build the string in chunks (fromCharCode.apply has an argument limit).
  const chunks: string[] = [];
  for (let k = 0; k < o; k += 8192) chunks.push(String.fromCharCode.apply(null, out.subarray(k, Math.min(o, k + 8192)) as unknown as number[]));
  return chunks.join('');
}

const jsonEscapes: Transform = (text) => {
  if (!text.includes('\\')) return null;
  return mapTriggeredLines(text, /\\[ux"\\/nrtbfv0'`$]/g, unescapeOnce);
};

// --- A token split by an escaped newline --------------------------------------------------------

const joinEscapedNewlines: Transform = (text) => {
  if (!text.includes('\\')) return null;
  // Shell / Makefile line continuation (backslash, newline, indentation) and literal "\n" / "\r\n"
  // between two token characters.
  const joined = text.replace(/([A-Za-z0-9+/=_.-])(?:\\\r?\n[ \t]*|(?:\\r)?\\n(?:[ \t]*\\?\r?\n?[ \t]*)?)(?=[A-Za-z0-9+/=_.-])/g, '$1');
  return joined === text ? null : joined;
};

// --- XML / HTML ---------------------------------------------------------------------------------

const NAMED_ENTITIES: Record<string, string> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ', sol: '/', colon: ':', equals: '=', plus: '+', period: '.',
  comma: ',', lowbar: '_', hyphen: '-', dash: '-', num: '#', percnt: '%', commat: '@', dollar: '$', lbrace: '{', rbrace: '}',
  lsqb: '[', rsqb: ']', lpar: '(', rpar: ')', excl: '!', quest: '?', semi: ';', ast: '*', bsol: '\\', newline: '\n', tab: '\t',
};

/** XML / HTML character references (&#65; &#x41; &lt; ...). One pass over char codes, no regex callbacks. */
export function decodeEntities(text: string): string {
  if (text.indexOf('&') < 0) return text;
  const n = text.length;
  const out = new Uint16Array(n); // a reference is never shorter than what it stands for
  let o = 0;
  let i = 0;
  let changed = false;
  while (i < n) {
    const c0 = text.charCodeAt(i);
    if (c0 !== 0x26 /* & */) {
      out[o++] = c0;
      i++;
      continue;
    }
    let end = i + 1;
    let replacement: string | null = null;
    if (text.charCodeAt(end) === 0x23 /* # */) {
      end++;
      const hex = text.charCodeAt(end) === 0x78 || text.charCodeAt(end) === 0x58; // x X
      if (hex) end++;
      const digitsStart = end;
      let cp = 0;
      while (end < n && end - digitsStart < (hex ? 6 : 7)) {
        const c = text.charCodeAt(end);
        const d = c >= 48 && c <= 57 ? c - 48 : hex && c >= 65 && c <= 70 ? c - 55 : hex && c >= 97 && c <= 102 ? c - 87 : -1;
        if (d < 0) break;
        cp = cp * (hex ? 16 : 10) + d;
        end++;
      }
      if (end > digitsStart && cp > 0 && cp <= 0x10ffff) replacement = String.fromCodePoint(cp);
    } else {
      const nameStart = end;
      while (end < n && end - nameStart < 8) {
        const c = text.charCodeAt(end) | 0x20;
        if (c < 97 || c > 122) break;
        end++;
      }
      if (end - nameStart >= 2) replacement = NAMED_ENTITIES[text.slice(nameStart, end).toLowerCase()] ?? null;
    }
    if (replacement === null) {
      out[o++] = c0;
      i++;
      continue;
    }
    if (text.charCodeAt(end) === 0x3b /* ; */) end++;
    for (let k = 0; k < replacement.length; k++) out[o++] = replacement.charCodeAt(k);
    i = end;
    changed = true;
  }
  if (!changed) return text;
  const chunks: string[] = [];
  for (let k = 0; k < o; k += 8192) chunks.push(String.fromCharCode.apply(null, out.subarray(k, Math.min(o, k + 8192)) as unknown as number[]));
  return chunks.join('');
}

// Entities worth decoding: numeric ones and named ones other than a lone "&amp;" (plain "a &amp; b"
// in a stanza hides nothing; "&amp;#61;" and "&quot;" around JSON can).
const ENTITY_TRIGGER = /&(?!amp;(?![#A-Za-z]))(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/g;
// Tags that can split a token or a sentence: inline formatting and table cells. Block tags
// (<message>, <body>, <p>) around plain text change nothing a rule would see.
const INLINE_TAG_NAMES = 'b|i|u|s|em|strong|span|a|code|font|small|big|mark|wbr|sup|sub|tt|kbd|samp|var|abbr|del|ins|nobr';
const MARKUP_TRIGGER = new RegExp(`${ENTITY_TRIGGER.source}|<\\/?(?:${INLINE_TAG_NAMES}|td|th|br|li|dd|dt)\\b[^<>]{0,500}>|<!\\[CDATA\\[`, 'gi');
const INLINE_TAGS = new RegExp(`^(?:${INLINE_TAG_NAMES})$`, 'i');

/** Markup removed (inline tags vanish so a token split by <wbr> or <b> joins up; other tags become a space), then entities decoded. */
export function stripMarkup(line: string): string {
  return decodeEntities(
    line
      .replace(/<!\[CDATA\[|\]\]>/g, '')
      .replace(/<\/?([A-Za-z][A-Za-z0-9:-]{0,40})(?:\s[^<>]{0,500})?\/?>/g, (_tag, name: string) => (INLINE_TAGS.test(name) ? '' : ' ')),
  );
}

const markup: Transform = (text) => {
  if (!text.includes('&') && !text.includes('<')) return null;
  return mapTriggeredLines(text, MARKUP_TRIGGER, stripMarkup);
};

// --- Percent-encoding and quoted-printable ------------------------------------------------------

function decodeByteRuns(text: string, pattern: RegExp, hexOf: (run: string) => string): string {
  return text.replace(pattern, (run) => {
    const bytes = Buffer.from(hexOf(run), 'hex');
    const decoded = bytes.toString('utf8');
    // Bytes that are not UTF-8 text ("%DB_PASS%") or decode to control characters stay as written.
    return decoded.includes('\ufffd') || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(decoded) ? run : decoded;
  });
}

export function percentDecode(text: string): string {
  return decodeByteRuns(text, /(?:%[0-9A-Fa-f]{2})+/g, (run) => run.replace(/%/g, ''));
}

const percent: Transform = (text) => {
  if (!text.includes('%')) return null;
  return mapTriggeredLines(text, /%[0-9A-Fa-f]{2}/g, percentDecode);
};

const quotedPrintable: Transform = (text) => {
  // Only text that says it is quoted-printable, or has both soft line breaks and "=3D" escapes.
  if (!/quoted-printable/i.test(text) && !(/=\r?\n/.test(text) && text.includes('=3D'))) return null;
  const joined = text.replace(/=\r?\n/g, '');
  const decoded = decodeByteRuns(joined, /(?:=[0-9A-F]{2})+/g, (run) => run.replace(/=/g, ''));
  return decoded === text ? null : decoded;
};

// --- Base64 values where a secret is expected ---------------------------------------------------

const SECRETISH_KEY = /(?:auth|pass|pwd|secret|token|key|cred|dockerconfig|private|cert)/i;
const K8S_SECRET = /kind["']?\s{0,3}:\s{0,3}["']?Secret\b/;

const SECRETISH_KEY_ASSIGNMENT = /(?:auth|pass|pwd|secret|token|key|cred|dockerconfig|private|cert)[A-Za-z0-9_.-]{0,40}["']?\s{0,3}[:=]/gi;

function collectBase64Pairs(segment: string, anyKey: boolean, out: string[], seen: Set<string>): void {
  const pair = /(?<![A-Za-z0-9_.-])["']?([A-Za-z0-9_.-]{1,64})["']?\s{0,3}[:=]\s{0,3}["']?([A-Za-z0-9+/_-]{8,65536}={0,2})(?![A-Za-z0-9+/=_-])/g;
  for (let m = pair.exec(segment); m; m = pair.exec(segment)) {
    const key = m[1]!;
    if (!anyKey && !SECRETISH_KEY.test(key)) continue;
    if (seen.has(m[2]!)) continue; // the same value repeated decodes (and scans) once
    seen.add(m[2]!);
    const decoded = decodeBase64Text(m[2]!);
    if (decoded && /[^A-Za-z0-9]/.test(decoded)) out.push(`${key}: ${decoded}`);
  }
}

const base64Values: Transform = (text) => {
  const out: string[] = [];
  const seen = new Set<string>();
  if (K8S_SECRET.test(text)) {
    // Every value under a Kubernetes Secret's data: is base64 of something secret.
    collectBase64Pairs(text, true, out, seen);
  } else {
    forEachTriggeredLine(text, SECRETISH_KEY_ASSIGNMENT, (line) => collectBase64Pairs(line, false, out, seen));
  }
  // MIME parts sent as base64, and text data: URLs.
  const mime = /content-transfer-encoding:\s{0,3}base64\s{0,3}\r?\n(?:[^\r\n]{1,200}\r?\n){0,10}?\r?\n((?:[A-Za-z0-9+/=]{4,200}\r?\n?){1,20000})/gi;
  if (/content-transfer-encoding/i.test(text)) {
    for (let m = mime.exec(text); m; m = mime.exec(text)) {
      const decoded = decodeBase64Text(m[1]!.replace(/\s+/g, ''), 0.9);
      if (decoded) out.push(decoded);
    }
  }
  if (text.includes('data:')) {
    const dataUrl = /data:(?:text\/[a-z+.-]{1,40}|application\/(?:json|xml|x-www-form-urlencoded|yaml|x-yaml))(?:;[a-z-]{1,20}=[^;,]{1,40})*;base64,([A-Za-z0-9+/]{4,1048576}={0,2})/gi;
    for (let m = dataUrl.exec(text); m; m = dataUrl.exec(text)) {
      const decoded = decodeBase64Text(m[1]!, 0.9);
      if (decoded) out.push(decoded);
    }
  }
  return out.length > 0 ? out.join('\n') : null;
};

// --- Invisible and compatibility characters -----------------------------------------------------

const unicodeFolding: Transform = (text) => {
  return mapTriggeredLines(text, /[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\uff01-\uff5e]/g, (line) =>
    line.replace(/[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, '').normalize('NFKC'),
  );
};

const TRANSFORMS: ReadonlyArray<[string, Transform]> = [
  ['json', jsonEscapes],
  ['markup', markup],
  ['percent', percent],
  ['qp', quotedPrintable],
  ['base64', base64Values],
  ['join', joinEscapedNewlines],
  ['unicode', unicodeFolding],
];

/** The raw text followed by every derived view worth scanning (deduplicated, bounded). */
export function textViews(text: string, limits: NormalizeLimits = DEFAULT_LIMITS): TextView[] {
  const views: TextView[] = [{ source: 'raw', text }];
  const seen = new Set<string>([text]);
  // A large payload that is one escaped JSON document must still be decoded: the budget grows with
  // the input, so the total work stays a small multiple of the input size.
  let budget = Math.max(limits.maxDerivedChars, (limits.perInputChar ?? 0) * text.length, 0);
  const queue: Array<{ view: TextView; depth: number }> = [{ view: views[0]!, depth: 0 }];
  for (let head = 0; head < queue.length; head++) {
    const { view, depth } = queue[head]!;
    if (depth >= limits.maxDepth) continue;
    for (const [name, transform] of TRANSFORMS) {
      if (budget <= 0) return views;
      const derived = transform(view.text);
      if (derived === null || derived.length === 0 || seen.has(derived)) continue;
      if (derived.length > budget) continue;
      budget -= derived.length;
      seen.add(derived);
      const next: TextView = { source: view.source === 'raw' ? name : `${view.source}>${name}`, text: derived };
      views.push(next);
      queue.push({ view: next, depth: depth + 1 });
    }
  }
  return views;
}
