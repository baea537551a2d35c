/**
 * Checks a candidate must pass before it counts as a finding: checksums (GitHub / npm CRC32, Luhn,
 * IBAN mod-97), structure (JWT header, Basic credentials, Discord snowflake) and the value tests the
 * generic rules use (entropy, placeholders, password-likeness). Pure functions, no imports: this
 * file is bundled into the hook that runs on every tool call.
 */

// ---------------------------------------------------------------------------------------------
// Checksums

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, the zlib one) of the string's UTF-8 bytes. */
export function crc32(text: string): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const bytes = new TextEncoder().encode(text);
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ crcTable[(crc ^ byte) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 (0-9A-Za-z) of a non-negative integer, left-padded with "0" to `width`. */
export function base62(value: number, width = 0): string {
  let n = Math.floor(value);
  let out = '';
  do {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}

/**
 * GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm (npm_) tokens: prefix, 30 random base62 characters,
 * then 6 characters that are the base62 CRC32 of those 30 (github.blog, 2021-04-05 and 2021-09-23).
 */
export function prefixedCrc32Valid(token: string): boolean {
  const underscore = token.indexOf('_');
  const body = token.slice(underscore + 1);
  if (body.length !== 36 || !/^[A-Za-z0-9]{36}$/.test(body)) return false;
  return base62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

/** Luhn mod-10 over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN lengths by country (ISO 13616 registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19,
  SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod 97-10 over an IBAN without spaces (upper case). */
export function ibanMod97Valid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/** The IBAN at the start of `candidate` (spaces allowed between groups), if its country length and mod-97 check out. */
export function ibanAt(candidate: string): string | null {
  const compact = candidate.replace(/ /g, '');
  const length = IBAN_LENGTHS[compact.slice(0, 2)];
  if (!length || compact.length < length) return null;
  const iban = compact.slice(0, length);
  return ibanMod97Valid(iban) ? iban : null;
}

// ---------------------------------------------------------------------------------------------
// Payment cards

/** Whether a 12–19 digit number has a known issuer prefix for its length. */
export function cardIssuer(digits: string): string | null {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  if (digits[0] === '4' && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) && n >= 16 && n <= 19) return 'discover';
  if (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && n >= 14 && n <= 19) return 'diners';
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return 'jcb';
  if (p2 === 62 && n >= 16 && n <= 19) return 'unionpay';
  if (p4 >= 2200 && p4 <= 2204 && n >= 16 && n <= 19) return 'mir';
  if ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && n >= 12 && n <= 19) return 'maestro';
  return null;
}

/** A card number as written (digits with one consistent separator between groups): Luhn plus issuer prefix. */
export function cardNumberValid(written: string): boolean {
  const separators = written.match(/[ -]/g);
  if (separators) {
    if (new Set(separators).size > 1) return false;
    // Grouped as printed on cards: 4-4-4-4 (a shorter last group allowed, a fifth group of up to
    // 3 for 19 digits), 4-6-5 (Amex) or 4-6-4 (Diners). UUIDs and phone numbers are grouped otherwise.
    const sizes = written.split(separators[0]!).map((group) => group.length).join('-');
    if (!/^4-4-4-(?:[1-4]|4-[1-3])$|^4-6-[45]$/.test(sizes)) return false;
  }
  const digits = written.replace(/[ -]/g, '');
  if (digits.length < 12 || digits.length > 19) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return cardIssuer(digits) !== null && luhnValid(digits);
}

/** US SSN rules: area not 000, 666 or 900–999; group not 00; serial not 0000. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Encodings

/** Decode standard or URL-safe base64 (padding optional); null if it is not base64. */
export function decodeBase64(text: string): Buffer | null {
  const compact = /\s/.test(text) ? text.replace(/\s+/g, '') : text;
  if (compact.length < 4 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return null;
  if (compact.replace(/=+$/, '').length % 4 === 1) return null;
  // Node's base64 decoder reads the URL-safe alphabet too.
  return Buffer.from(compact, 'base64');
}

/** Share of bytes that are printable ASCII, tab, CR or LF, or part of valid UTF-8 text. */
export function printableRatio(text: string): number {
  if (text.length === 0) return 0;
  let printable = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || (c >= 0xa0 && c !== 0xfffd)) printable++;
  }
  return printable / text.length;
}

/** Decoded base64 as text if it is mostly printable (a credential, a config), else null (binary). */
export function decodeBase64Text(text: string, minPrintable = 0.95): string | null {
  const bytes = decodeBase64(text);
  if (!bytes || bytes.length === 0) return null;
  // Binary shows in the bytes already (control characters): no need to build a string.
  let control = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) control++;
  }
  if (control > bytes.length * (1 - minPrintable)) return null;
  const decoded = bytes.toString('utf8');
  return printableRatio(decoded) >= minPrintable ? decoded : null;
}

// ---------------------------------------------------------------------------------------------
// Value tests

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  const length = [...text].length;
  for (const count of counts.values()) {
    const p = count / length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

export interface CharClasses {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  symbol: boolean;
  count: number;
}

export function charClasses(text: string): CharClasses {
  const lower = /[a-z]/.test(text) || /\p{Ll}/u.test(text);
  const upper = /[A-Z]/.test(text) || /\p{Lu}/u.test(text);
  const digit = /\d/.test(text);
  const symbol = /[^\p{L}\p{N}\s]/u.test(text);
  return { lower, upper, digit, symbol, count: Number(lower) + Number(upper) + Number(digit) + Number(symbol) };
}

/** A run of ascending or descending neighbours ("123456", "abcdef"): sample values, not keys. */
function sequentialShare(text: string): number {
  if (text.length < 2) return 0;
  let steps = 0;
  for (let i = 1; i < text.length; i++) {
    const d = text.charCodeAt(i) - text.charCodeAt(i - 1);
    if (d === 1 || d === -1) steps++;
  }
  return steps / (text.length - 1);
}

// Markers of a template or a redaction rather than a value. Tested on the candidate secret.
const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  /\$\{[^}]{0,200}\}/, // ${VAR}
  /\$\([^)]{0,200}\)/, // $(cmd)
  /\{\{[^}]{0,200}\}\}/, // {{ x }}
  /\{%[^%]{0,200}%\}/, // {% x %}
  /^\$[A-Za-z_][A-Za-z0-9_]*$/, // $VAR
  /^%[A-Za-z_][A-Za-z0-9_]*%$/, // %VAR%
  /^%\(?[A-Za-z_]*\)?s$/, // %s, %(name)s
  /^<[^>]{0,200}>$/, // <token>
  /^\[[^\]]{0,200}\]$/, // [redacted]
  /^\{[A-Za-z_][A-Za-z0-9_.-]{0,200}\}$/, // {token}
  /^:[a-z_]+$/, // :password (SQL / route placeholders)
  /x{4,}/i, // xxxx
  /\*{3,}/, // ***
  /•{3,}|·{3,}|…|\.{3,}/, // ••• and ellipses
  /(.)\1{5,}/, // aaaaaa, 000000
  // Template words as whole words (separated by _ - . space, or at an end), never inside random text.
  /(?:^|[_\-\s./])(?:your|my|the|insert|enter|replace|put|paste|add|some|sample|example|dummy|fake|placeholder|redacted|changeme|change[_-]me|todo|tbd|fixme|here|not[_-]?set|undefined|null|none)(?:[_\-\s./]|$)/i,
  /(?:here|example|sample|placeholder|redacted|dummy)$/i,
  /^(?:your|my)[A-Z_-]/,
  /EXAMPLE/,
];

/** A template, a redaction, an environment reference or a documentation sample, not a value. */
export function isPlaceholder(value: string): boolean {
  if (value.length === 0) return true;
  if (PLACEHOLDER_PATTERNS.some((pattern) => pattern.test(value))) return true;
  const core = value.replace(/^[A-Za-z]+[_-]/, '');
  if (core.length >= 8 && sequentialShare(core) > 0.6) return true;
  // A short pattern repeated over (most of) the value ("abcabcabcabc", "ab12ab12ab12").
  const repeated = value.length >= 12 ? /^(.{1,6})\1{3,}/.exec(value) : null;
  if (repeated && repeated[0].length >= value.length * 0.8) return true;
  return false;
}

/** A reference to where the value lives (env var, function call, config path), not the value. */
export function isReference(value: string): boolean {
  if (/^[$%@&]/.test(value) && !/[$%@&].*[0-9]/.test(value.slice(1, 3))) {
    if (/^\$[A-Za-z_{(]/.test(value) || /^%[A-Za-z_]/.test(value) || /^@[A-Za-z_]/.test(value)) return true;
  }
  if (/^(?:process\.env|os\.environ|os\.getenv|getenv|env\(|ENV\[|System\.getenv|secrets\.|vars\.|config\.|settings\.|self\.|this\.|params\.|args\.|opts\.|options\.|context\.|ctx\.|Deno\.env|import\.meta\.env|env\.)/i.test(value)) return true;
  if (/^[A-Za-z_$][\w$.]{0,80}\(.{0,200}\)[;,]?$/.test(value)) return true; // get_password()
  if (/^[a-z_]+(?:\.[a-z_]+){1,6}$/i.test(value)) return true; // config.db.password
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value) && !/\d{3,}/.test(value)) return true; // DB_PASSWORD
  if (/^(?:arn|projects|secret|vault|op|keyvault|ssm|sm|gcp|aws|azure|env|file|k8s):/i.test(value) && !/^secret:\S{12,}$/.test(value)) return true;
  if (/^(?:https?|file):\/\//i.test(value)) return true;
  if (/^(?:\/|\.{1,2}\/|~\/)[\w./-]*$/.test(value)) return true; // a path
  return false;
}

// Words that follow "password:" in prose and UI text but are not passwords.
const NON_VALUES = new Set([
  'true', 'false', 'null', 'nil', 'none', 'undefined', 'empty', 'blank', 'required', 'optional', 'string', 'str', 'text',
  'password', 'passwd', 'passphrase', 'secret', 'token', 'hidden', 'masked', 'redacted', 'removed', 'omitted', 'unset',
  'default', 'changeme', 'example', 'sample', 'dummy', 'test', 'testing', 'admin', 'root', 'guest', 'user', 'username',
  'pass', 'pwd', 'incorrect', 'invalid', 'expired', 'wrong', 'correct', 'valid', 'missing', 'weak', 'strong', 'reset',
  'changed', 'updated', 'stored', 'encrypted', 'hashed', 'protected', 'confidential', 'private', 'public', 'unknown',
  'bearer', 'basic', 'login', 'secure', 'insecure', 'temporary', 'generated', 'random', 'sensitive', 'needed',
]);

// The most common weak passwords that are not also everyday words ("access", "master", "summer"
// follow "password is" in ordinary prose): in a password's place, these are passwords.
const COMMON_PASSWORDS = new Set([
  'letmein', 'qwerty', 'qwertyuiop', 'qwerty123', 'monkey', 'dragon', 'sunshine', 'iloveyou', 'princess', 'football',
  'baseball', 'trustno1', 'superman', 'batman', 'starwars', 'passw0rd', 'hunter2', 'secret1', 'abc123', 'asdfgh',
  'asdfghjkl', 'zxcvbnm', 'tigger', 'pokemon', 'hello123', 'admin123', 'root123', 'toor', 'changeit', 'p@ssw0rd',
  'p@ssword', 'pa$$word', 'password1', 'password123', 'letmein1', '1qaz2wsx', 'qazwsx',
]);

/** Would this value plausibly be a password (as opposed to a word, a number or a template)? */
export function passwordLike(raw: string, options: { prose?: boolean } = {}): boolean {
  const value = raw.trim();
  if (value.length < 4 || value.length > 200) return false;
  if (COMMON_PASSWORDS.has(value.toLowerCase()) && !isPlaceholder(value)) return true;
  if (value.length < 6) return false;
  if (NON_VALUES.has(value.toLowerCase())) return false;
  if (isPlaceholder(value) || isReference(value)) return false;
  if (/\s/.test(value)) return passphraseLike(value);
  // English compounds ("case-sensitive", "write-only", "auto-generated"), not passwords.
  if (/^[A-Za-z][a-z]*(?:-[A-Za-z][a-z]*){1,2}$/.test(value)) return false;
  const classes = charClasses(value);
  const letters = /\p{L}/u.test(value);
  if (!letters) return !options.prose && classes.digit && value.length >= 6 && !/^\d{1,4}(?:[./-]\d{1,4}){1,3}$/.test(value);
  if (/^\p{Lu}?\p{Ll}+$/u.test(value)) return value.length >= (options.prose ? 18 : 14); // a long single-case word: a passphrase
  if (/^\p{Lu}+$/u.test(value)) return value.length >= 12;
  if (classes.count < 2) return false;
  if (/^[A-Za-z]+(?:[A-Z][a-z]+)+$/.test(value) && !classes.digit) return value.length >= 16 && !options.prose; // camelCase identifier
  if (/^v?\d+(?:\.\d+){1,3}(?:-[a-z0-9.]+)?$/i.test(value)) return false; // a version
  return true;
}

const PASSPHRASE_STOPWORDS = new Set(['the', 'a', 'an', 'your', 'my', 'our', 'is', 'are', 'be', 'to', 'of', 'for', 'at', 'least', 'must', 'please', 'enter', 'not', 'and', 'or', 'with', 'in', 'on', 'characters', 'chars', 'long', 'this', 'that', 'it', 'you', 'we', 'will', 'should', 'can']);

function passphraseLike(value: string): boolean {
  const words = value.split(/\s+/);
  if (words.length < 3 || words.length > 8) return false;
  if (words.some((word) => PASSPHRASE_STOPWORDS.has(word.toLowerCase()))) return false;
  return words.every((word) => /^[a-z0-9!@#$%^&*_-]{2,20}$/.test(word)) && !isPlaceholder(value);
}

// Prose: "<key> [for the staging db] is <value>", in several languages.
const PROSE_QUALIFIERS = new Set(['for', 'of', 'to', 'on', 'at', 'from', 'in', 'de', 'du', 'des', 'für', 'fürs', 'zum', 'zur', 'del', 'da', 'do', 'dla', 'van', 'voor', 'för', 'til', 'для', 'от', 'pour', 'para', 'per', 'di', 'della', 'dello']);
// Separators between a prose key and its value, in several languages; markdown emphasis and table
// pipes around them are skipped ("**Password:** `x`", "| password | x |").
const PROSE_SEPARATOR = /^[*_\s]{0,6}((?:(?:(?:is|was|are|were|will be|is now|has been|now|still|currently|just|set to|changed to|updated to|reset to|ist|lautet|war|est|était|es|era|é|è|är|var|er|jest|je|on|sind|to|est maintenant|es ahora|este|adalah|là|είναι|هي|היא|คือ)(?![A-Za-zÀ-ÿ])|=|:|：|->|→|-|–|—|\||は|是|为|為|는|은|:)[*_\s]{0,6}){1,3})?["'“”‘’«»„`]?([^\s"'“”‘’«»„`<>|]{4,128})/i;

const PROSE_QUOTED = /^[*_\s]{0,6}((?:(?:is|was|ist|lautet|est|es|é|è|är|is now)(?![A-Za-zÀ-ÿ])|=|:|：)[*_\s]{0,6}){1,2}["'“‘«„`]([^"'“”‘’«»„`\r\n]{4,128})["'”’»“`]/i;

/** Candidate values after a prose key: with no qualifier, then after "for X", "for X Y", "for X Y Z". */
export function proseCandidates(tail: string): Array<{ value: string; separated: boolean }> {
  const out: Array<{ value: string; separated: boolean }> = [];
  const tryAt = (rest: string, forceSeparated = false): void => {
    const quoted = PROSE_QUOTED.exec(rest);
    if (quoted) out.push({ value: quoted[2]!, separated: true }); // "is 'correct horse battery staple'"
    const m = PROSE_SEPARATOR.exec(rest);
    if (!m) return;
    const separated = forceSeparated || m[1] !== undefined;
    // Without a separator the value must be its own word, after whitespace.
    if (!separated && !/^\s/.test(rest)) return;
    out.push({ value: m[2]!, separated });
  };
  tryAt(tail);
  const words = /^\s{1,3}(\S{1,40})/.exec(tail);
  if (words && PROSE_QUALIFIERS.has(words[1]!.toLowerCase())) {
    let rest = tail.slice(words[0].length);
    for (let i = 0; i < 3; i++) {
      const word = /^\s{1,3}(\S{1,60})/.exec(rest);
      if (!word) break;
      rest = rest.slice(word[0].length);
      if (/[:：=]$/.test(word[1]!)) {
        tryAt(rest, true); // "for admin@example.org: <value>"
        break;
      }
      tryAt(rest);
    }
  }
  return out;
}

/** Letters with digits and symbols or mixed case, 8+ characters: a password even without context. */
export function strongPassword(value: string): boolean {
  if (value.length < 8 || value.length > 128 || /\s/.test(value)) return false;
  if (isPlaceholder(value) || isReference(value)) return false;
  const c = charClasses(value);
  return (c.lower || c.upper) && c.digit && (c.symbol || (c.lower && c.upper));
}

/** "prod/db-credentials", "team/backend/api": a name or path, not a password. */
export function isPathLike(value: string): boolean {
  return /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+\/?$/.test(value) && !/\d.*[A-Z]|[A-Z].*\d/.test(value.replace(/^[^/]*\//, ''));
}

/** Would this value plausibly be a token or key (random-looking, long enough)? */
export function secretLike(raw: string, minLength = 12): boolean {
  const value = raw.trim();
  if (value.length < minLength || value.length > 4096) return false;
  if (/\s/.test(value)) return false;
  if (NON_VALUES.has(value.toLowerCase())) return false;
  if (isPlaceholder(value) || isReference(value)) return false;
  const classes = charClasses(value);
  const entropy = shannonEntropy(value);
  if (/^[a-z]+(?:[_.-][a-z]+)*$/i.test(value) && !/[a-z][A-Z]/.test(value)) return false; // words joined by separators
  if (/^[A-Za-z]+$/.test(value) && (!classes.upper || !classes.lower || value.length < 20)) return false;
  if (/^\d+$/.test(value)) return value.length >= 16 && entropy >= 3;
  if (classes.digit && (classes.lower || classes.upper)) return entropy >= (value.length >= 24 ? 3.2 : 2.8);
  return value.length >= 20 && entropy >= 3.5;
}

// ---------------------------------------------------------------------------------------------
// Structured tokens

/** A JWT: the header segment decodes to a JSON object with "alg" (or "typ"/"kid"). */
export function jwtValid(token: string): boolean {
  const [header] = token.split('.');
  const decoded = header ? decodeBase64Text(header) : null;
  if (!decoded) return false;
  try {
    const parsed = JSON.parse(decoded) as unknown;
    return typeof parsed === 'object' && parsed !== null && ('alg' in parsed || 'typ' in parsed || 'kid' in parsed || 'enc' in parsed);
  } catch {
    return false;
  }
}

/** Basic credentials: base64 of "user:password" with a real (non-template) password. */
export function basicCredentialsValid(encoded: string): boolean {
  const bytes = decodeBase64(encoded);
  if (!bytes || !bytes.includes(0x3a)) return false; // no ":" — not user:password
  const decoded = decodeBase64Text(encoded, 1);
  if (!decoded) return false;
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const password = decoded.slice(colon + 1);
  if (password.length < 3 || /[\r\n]/.test(decoded)) return false;
  return !strictPlaceholder(password);
}

/** Only the unmistakable templates: used where any concrete value is a credential (headers, URLs). */
export function strictPlaceholder(value: string): boolean {
  return (
    /^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\{\{.*\}\}|\{[A-Za-z_]+\}|\[[^\]]*\]|%[A-Za-z_]+%|:[a-z_]+)$/.test(value) ||
    /x{4,}|\*{3,}|•{3,}|\.{3,}|…/i.test(value) ||
    /^(?:password|passwd|pass|pwd|secret|token|changeme|example|placeholder|redacted|your[-_]?password|yourpassword|mypassword|my[-_]?password|p@ssw0rd|\*+)$/i.test(value)
  );
}

/** Discord bot token: the first segment is the base64 of the bot's numeric (snowflake) id. */
export function discordTokenValid(token: string): boolean {
  const [id] = token.split('.');
  const decoded = id ? decodeBase64Text(id, 1) : null;
  return decoded !== null && /^\d{17,20}$/.test(decoded);
}

/** Azure SAS signature: base64 (often percent-encoded) of a 32-byte HMAC-SHA256. */
export function sasSignatureValid(signature: string): boolean {
  let text = signature;
  try {
    text = decodeURIComponent(signature);
  } catch {
    return false;
  }
  const bytes = decodeBase64(text);
  return bytes !== null && bytes.length === 32;
}

// ---------------------------------------------------------------------------------------------
// Generic assignments: what the key says about the value

/** "DB_PASSWORD", "dbPassword", "db.password" -> ["db", "password"]. */
export function keySegments(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9\u00c0-\uffff]+/)
    .filter(Boolean);
}

const PASSWORD_SEGMENTS = new Set([
  'pass', 'password', 'passwd', 'passphrase', 'passcode', 'pwd', 'pw', 'passwort', 'kennwort', 'wachtwoord', 'contraseña',
  'contrasena', 'senha', 'lösenord', 'losenord', 'adgangskode', 'passord', 'salasana', 'hasło', 'haslo', 'heslo', 'jelszó',
  'jelszo', 'parola', 'şifre', 'sifre', 'mdp', 'motdepasse', 'пароль', 'passwords',
]);

const SECRET_SEGMENTS = new Set([
  'secret', 'secrets', 'token', 'apikey', 'accesskey', 'privatekey', 'authkey', 'credential', 'credentials', 'creds',
  'clientsecret', 'secretkey', 'accesstoken', 'authtoken', 'refreshtoken', 'idtoken', 'apitoken', 'bearertoken',
  'webhooksecret', 'signingsecret', 'signingkey', 'masterkey', 'encryptionkey', 'appsecret', 'appkey', 'consumersecret',
  'consumerkey', 'subscriptionkey', 'licensekey', 'sessionkey', 'sessiontoken', 'securitytoken', 'sastoken', 'auth',
  'apisecret', 'privatetoken', 'accesssecret', 'apikeys', 'tokens', 'pat',
]);

const KEY_QUALIFIERS = new Set([
  'api', 'access', 'private', 'auth', 'secret', 'signing', 'master', 'encryption', 'app', 'application', 'consumer',
  'subscription', 'license', 'licence', 'session', 'client', 'service', 'admin', 'write', 'read', 'deploy', 'ingest',
  'server', 'account', 'storage', 'shared', 'webhook', 'hmac', 'jwt', 'encrypt', 'decrypt', 'root', 'personal',
  'integration', 'sas', 'live', 'prod', 'production', 'secure', 'security', 'cipher', 'aes', 'crypto', 'dev', 'test',
]);

// A key with one of these parts names something about a secret (its type, length, URL, expiry,
// where it is stored...) rather than holding it.
const NON_SECRET_KEY_PARTS = new Set([
  'type', 'types', 'count', 'used', 'limit', 'limits', 'length', 'len', 'size', 'url', 'uri', 'endpoint', 'endpoints', 'name',
  'names', 'file', 'filename', 'path', 'dir', 'env', 'var', 'field', 'fields', 'expires', 'expiry', 'expiration', 'exp', 'ttl',
  'policy', 'policies', 'hint', 'reset', 'prompt', 'format', 'header', 'usage', 'max', 'min', 'rotation', 'rotated', 'created',
  'updated', 'version', 'scope', 'scopes', 'kind', 'label', 'description', 'desc', 'placeholder', 'title', 'text', 'message',
  'msg', 'error', 'errors', 'status', 'mode', 'enabled', 'enable', 'disabled', 'required', 'rules', 'rule', 'strength',
  'validation', 'validator', 'page', 'next', 'prev', 'previous', 'cursor', 'continuation', 'sync', 'public', 'pub',
  'primary', 'foreign', 'sort', 'partition', 'cache', 'idempotency', 'dedup', 'dedupe', 'lookup', 'hash', 'hashed',
  'digest', 'checksum', 'location', 'store', 'manager', 'provider', 'ref', 'reference', 'source', 'method', 'algorithm',
  'alg', 'encoding', 'input', 'column', 'param', 'prefix', 'suffix', 'pattern', 'regex', 'tokenizer', 'budget', 'price',
  'cost', 'rate', 'window', 'timeout', 'interval', 'lifetime', 'age', 'days', 'hours', 'minutes', 'seconds', 'ms',
  'issued', 'last4', 'mask', 'masked', 'redacted', 'generator', 'ids', 'uuid', 'fingerprint', 'index', 'idx', 'position',
  'offset', 'char', 'chars', 'character', 'characters', 'complexity', 'changed', 'change', 'forgot', 'forgotten', 'button',
  'link', 'form', 'dialog', 'modal', 'screen', 'view', 'route', 'component', 'icon', 'img', 'image', 'css', 'class',
  'style', 'bits', 'rounds', 'iterations', 'nonce', 'arn', 'kms', 'keyring', 'keystore', 'pair', 'pem', 'ssh', 'gpg', 'pgp',
  'id', 'less', 'auto', 'policy', 'mgr', 'vault', 'handler', 'callback', 'request', 'response', 'info', 'meta', 'metadata',
  'schema', 'spec', 'config', 'settings', 'option', 'options', 'dialog', 'ui', 'i18n', 'locale', 'translation', 'tooltip',
  'lbl', 'txt', 'btn', 'err', 'warning', 'success', 'failure', 'failed', 'invalid', 'valid', 'check', 'verify', 'verified',
  'strategy', 'flow', 'grant', 'cookie', 'sig', 'signature', 'fp', 'sha', 'sha1', 'sha256', 'md5', 'crc', 'salt',
  'estimate', 'estimated', 'budget', 'per', 'total', 'input', 'output', 'completion', 'prompt', 'cached', 'reasoning',
]);

function keyIsDescriptive(segments: readonly string[], key: string): boolean {
  const lower = key.toLowerCase();
  if (lower === 'secret_id' || lower === 'secretid' || lower === 'secret-id') return false; // Vault AppRole secret_id is a credential
  return segments.some((segment) => NON_SECRET_KEY_PARTS.has(segment));
}

export function keyNamesPassword(key: string): boolean {
  const segments = keySegments(key);
  if (keyIsDescriptive(segments, key)) return false;
  if (segments.join('').includes('motdepasse')) return true;
  return segments.some((s) => PASSWORD_SEGMENTS.has(s) || /(?:password|passwd|passphrase|passwort|kennwort|wachtwoord|pwd)$/.test(s));
}

/** 'secret' (any credential-ish value), 'token' (must look random), or null (not a secret key). */
export function keyNamesSecret(key: string): 'secret' | 'token' | null {
  const segments = keySegments(key);
  if (segments.length === 0 || keyIsDescriptive(segments, key)) return null;
  if (segments.some((s) => s === 'secret' || s === 'secrets' || s === 'credential' || s === 'credentials' || s === 'creds' || /secret$/.test(s))) return 'secret';
  if (segments.some((s) => SECRET_SEGMENTS.has(s) || /(?:token|apikey|accesskey|privatekey|authkey)$/.test(s))) return 'token';
  const last = segments[segments.length - 1];
  const before = segments[segments.length - 2];
  if (last === 'key' && before !== undefined && KEY_QUALIFIERS.has(before)) return 'token';
  // Environment style: STRIPE_KEY, OPENAI_KEY.
  if (last === 'key' && segments.length >= 2 && /^[A-Z0-9_]+$/.test(key)) return 'token';
  return null;
}

function trimValue(value: string): string {
  let v = value.trim();
  // Prose and code punctuation after the value.
  v = v.replace(/[.,;:]+$/, '');
  if (/[)\]}]$/.test(v)) {
    const open = { ')': '(', ']': '[', '}': '{' }[v[v.length - 1]!]!;
    if (!v.includes(open)) v = v.slice(0, -1);
  }
  return v;
}

export type ValidatorResult = boolean | string;
export type Validator = (secret: string, match: RegExpExecArray) => ValidatorResult;

function firstDefined(match: RegExpExecArray, groups: readonly number[]): [number, string] | null {
  for (const g of groups) if (match[g] !== undefined) return [g, match[g]!];
  return null;
}

/** The named validators the rule table refers to. A string result replaces the secret (e.g. trimmed). */
export const VALIDATORS: Readonly<Record<string, Validator>> = {
  prefixedCrc32: (secret) => prefixedCrc32Valid(secret),
  jwt: (secret) => jwtValid(secret),
  basicCredentials: (secret) => basicCredentialsValid(secret),
  discord: (secret) => discordTokenValid(secret),
  sasSignature: (secret) => sasSignatureValid(secret),
  secretLike: (secret) => secretLike(secret),
  passwordLike: (secret) => passwordLike(secret),

  pemBody: (_secret, match) => {
    const after = (match[1] ?? '').replace(/\\r\\n|\\n|\\r/g, '\n');
    const end = after.search(/-{4,5} ?END /);
    const block = end >= 0 ? after.slice(0, end) : after;
    const body = block
      .split(/\r?\n/)
      .filter((line) => !/^\s*[A-Za-z][A-Za-z0-9-]{0,40}:/.test(line))
      .join('')
      .replace(/[\s"',]+/g, '');
    const run = /^[A-Za-z0-9+/=]*/.exec(body)![0];
    if (run.length < 40 || /x{6,}|X{6,}|A{16,}|(.{1,4})\1{8,}/.test(run)) return false;
    return run;
  },

  awsSecretNearId: (secret) => /[A-Z]/.test(secret) && /[a-z]/.test(secret) && /\d/.test(secret) && shannonEntropy(secret) >= 4.2,

  passwordAssignment: (secret, match) => {
    const key = match.groups?.key ?? '';
    if (!keyNamesPassword(key)) return false;
    // In a query string the next parameter is not part of the password.
    const value = trimValue(secret.replace(/&[A-Za-z_][\w.-]{0,40}=.*$/, ''));
    return passwordLike(value) ? value : false;
  },

  secretAssignment: (secret, match) => {
    const key = match.groups?.key ?? '';
    const value = trimValue(secret);
    if (keyNamesPassword(key)) return passwordLike(value) ? value : false;
    const kind = keyNamesSecret(key);
    if (kind === null) return false;
    if (kind === 'secret') return secretLike(value, 8) || passwordLike(value) ? value : false;
    return secretLike(value, 12) ? value : false;
  },

  credentialProse: (tail, match) => {
    const key = (match.groups?.key ?? '').toLowerCase();
    const tokenish = /token|jeton|токен|api|key|clé|cle |clave api|chave api|secret|geheimnis/.test(key) && !/pass|secreta/.test(key);
    for (const { value: raw, separated } of proseCandidates(tail)) {
      const value = trimValue(raw);
      if (isPathLike(value)) continue;
      let ok: boolean;
      if (!separated) {
        // "passphrase Summit%1384copper?": no "is" or ":", so only an unmistakable value counts.
        ok = tokenish ? secretLike(value, 20) : strongPassword(value);
      } else if (tokenish) {
        ok = secretLike(value, 12) || (/secret/.test(key) && passwordLike(value, { prose: true }));
      } else {
        ok = passwordLike(value, { prose: true });
      }
      if (ok) return value;
    }
    return false;
  },

  urlCredentials: (secret, match) => {
    const user = match[2] ?? '';
    let password = secret;
    try {
      password = decodeURIComponent(secret);
    } catch {
      // keep it as written
    }
    if (password.length < 3 || password === user) return false;
    if (/^\d{1,5}$/.test(password)) return false; // host:port written oddly, not a password
    if (strictPlaceholder(password) || isReference(password)) return false;
    return true;
  },

  userPassPair: (secret, match) => {
    const found = firstDefined(match, [1, 2, 3, 4]);
    if (!found) return false;
    const [group, value] = found;
    if (group === 2) {
      const password = value.slice(value.indexOf(':') + 1);
      return !strictPlaceholder(password) && !isReference(password) && password.length >= 3 ? value : false;
    }
    if (isReference(value) || strictPlaceholder(value) || isPlaceholder(value)) return false;
    return passwordLike(value) || secretLike(value) ? value : false;
  },
};
