/**
 * Prints results: JSON, or YAML (the default). The YAML writer is a small one on purpose: the
 * values printed here are plain data (objects, arrays, strings, numbers, booleans, null), and the
 * `yaml` package's stringifier costs a short-lived CLI ~15 ms of start-up on every send. A string is
 * written plain only when it is unmistakably a string in any YAML 1.1 or 1.2 reader; everything else
 * is double-quoted with escapes, so every value reads back exactly (test/pipeline/render.test.ts).
 */
export type Format = 'yaml' | 'json';

export function render(value: unknown, format: Format): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : `${toYaml(value).join('\n')}\n`;
}

/** Starts with a letter, '/' or '_'; printable ASCII without flow indicators, quotes at the start, tabs or comment starts. */
const PLAIN = /^[A-Za-z_/][\x20-\x7e]*$/;
const NOT_PLAIN = /[{}[\],]|: |:$|\s#| $|^[^:]*:$/;
/** Words YAML 1.1 readers turn into booleans or null (1.2 readers: the first four). */
const SPECIAL_WORDS = /^(?:null|true|false|~|yes|no|on|off|y|n)$/i;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (typeof value === 'bigint') return String(value);
  return quoteIfNeeded(String(value));
}

function quoteIfNeeded(text: string): string {
  if (PLAIN.test(text) && !NOT_PLAIN.test(text) && !SPECIAL_WORDS.test(text)) return text;
  return doubleQuoted(text);
}

/**
 * JSON string syntax is YAML double-quoted syntax for everything JSON escapes; YAML also wants
 * DEL, the C1 controls, NEL, the line/paragraph separators, the BOM and U+FFFE/U+FFFF escaped.
 */
function doubleQuoted(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function key(name: string): string {
  return KEY.test(name) && !SPECIAL_WORDS.test(name) ? name : doubleQuoted(name);
}

function isCompound(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !(value instanceof Date);
}

/** The lines of one value written as a block at indent 0. */
function toYaml(value: unknown): string[] {
  if (value instanceof Date) return [doubleQuoted(value.toISOString())];
  if (!isCompound(value)) return [scalar(value)];
  if (Array.isArray(value)) {
    if (value.length === 0) return ['[]'];
    const lines: string[] = [];
    for (const item of value) {
      const inner = toYaml(item === undefined ? null : item);
      lines.push(`- ${inner[0]}`, ...inner.slice(1).map((line) => `  ${line}`));
    }
    return lines;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
  if (entries.length === 0) return ['{}'];
  const lines: string[] = [];
  for (const [name, item] of entries) {
    const inner = toYaml(item);
    const nested = isCompound(item) && !(item instanceof Date) && inner[0] !== '[]' && inner[0] !== '{}';
    if (nested) lines.push(`${key(name)}:`, ...inner.map((line) => `  ${line}`));
    else lines.push(`${key(name)}: ${inner[0]}`);
  }
  return lines;
}
