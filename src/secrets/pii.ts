/**
 * Personal data detectors, as data (same shape as the secret rules). Policy is per kind:
 * card, ssn, iban, email, phone. Cards need Luhn plus a known issuer prefix for their length,
 * IBANs their country's length plus mod-97, SSNs the SSA's area/group/serial rules. E-mail and
 * phone detection is optional (off unless a policy turns it on) and ignores the message's own
 * sender and recipients (see scan.ts).
 */
import type { Detector } from './rules.ts';
import { cardIssuer, cardNumberValid, ibanAt, luhnValid, ssnValid } from './validators.ts';

export const PII_KINDS = ['card', 'ssn', 'iban', 'email', 'phone'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiDetector extends Omit<Detector, 'validator'> {
  piiKind: PiiKind;
  /** true / a refined value (the finding), or false. */
  check: (value: string, match: RegExpExecArray) => boolean | string;
}

const CARD_GROUPINGS = /^4-4-4-(?:[1-4]|4-[1-3])$|^4-6-[45]$/;

/**
 * The card in a run of digit groups, if any: every run of whole groups printed the way cards are
 * ("Order 12 4111 1111 1111 1111" still finds the card), or the run itself when it is contiguous.
 */
function cardIn(written: string): string | false {
  if (!/[ -]/.test(written)) return cardNumberValid(written) ? written : false;
  const parts = written.split(/([ -])/); // digits, separator, digits, ...
  const groups = parts.filter((_, i) => i % 2 === 0);
  const separators = parts.filter((_, i) => i % 2 === 1);
  for (let from = 0; from < groups.length; from++) {
    if (groups[from]!.length !== 4) continue;
    let sizes = '4';
    for (let to = from + 1; to < groups.length && to - from < 5; to++) {
      if (separators[to - 1] !== separators[from]) break; // one separator style per card
      sizes += `-${groups[to]!.length}`;
      if (!CARD_GROUPINGS.test(sizes)) continue;
      const digits = groups.slice(from, to + 1).join('');
      if (cardIssuer(digits) !== null && luhnValid(digits) && !/^(\d)\1+$/.test(digits)) return groups.slice(from, to + 1).join(separators[from]!);
    }
  }
  return false;
}

// RFC 2606 / 6761 names: documentation addresses, never a person's.
const RESERVED_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost|local)$/i;

function phoneDigits(value: string): number {
  return value.replace(/\D/g, '').length;
}

export const PII_RULES: readonly PiiDetector[] = [
  {
    id: 'pii-card-number',
    description: 'payment card number (Luhn and issuer prefix)',
    piiKind: 'card',
    keywords: [],
    pattern: /(?<![A-Za-z0-9_.,+/-])(\d(?:[ -]?\d){11,22})(?![A-Za-z0-9_])/g,
    check: (value) => cardIn(value),
    noPlaceholderCheck: true,
  },
  {
    id: 'pii-us-ssn',
    description: 'US social security number',
    piiKind: 'ssn',
    keywords: [],
    pattern: /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-]|[ ]\d)/g,
    groups: [0],
    check: (value, match) => ssnValid(match[1]!, match[3]!, match[4]!) && value.length === 11,
    noPlaceholderCheck: true,
  },
  {
    id: 'pii-us-ssn',
    description: 'US social security number',
    piiKind: 'ssn',
    keywords: ['ssn', 'social security', 'ss#'],
    pattern: /(?:ssn|social security(?: number| no\.?| #)?|ss#)\s{0,3}(?:#|:|is|=|no\.?)?\s{0,3}(\d{9})(?!\d)/gi,
    check: (value) => ssnValid(value.slice(0, 3), value.slice(3, 5), value.slice(5)),
    window: { before: 2, after: 60 },
    noPlaceholderCheck: true,
  },
  {
    id: 'pii-iban',
    description: 'IBAN (country length and mod-97)',
    piiKind: 'iban',
    keywords: [],
    pattern: /(?<![A-Za-z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,8}(?: ?[A-Z0-9]{1,3})?)(?![A-Za-z0-9])/g,
    check: (value) => ibanAt(value) ?? false,
    noPlaceholderCheck: true,
  },
  {
    id: 'pii-email',
    description: 'e-mail address',
    piiKind: 'email',
    keywords: ['@'],
    pattern: /(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24})(?![A-Za-z0-9-]|\.[A-Za-z0-9])/g,
    check: (value) => !RESERVED_DOMAIN.test(value.slice(value.lastIndexOf('@') + 1)),
    window: { before: 66, after: 300 },
    noPlaceholderCheck: true,
  },
  {
    id: 'pii-phone',
    description: 'phone number',
    piiKind: 'phone',
    keywords: [],
    pattern: /(?<![\w+.-])(\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(?[2-9]\d{2}\)?[ .-]\d{3}[ .-]\d{4})(?![\w-]|\.\d)/g,
    check: (value) => {
      const digits = phoneDigits(value);
      return digits >= 8 && digits <= 15;
    },
    noPlaceholderCheck: true,
  },
];

/** Digits of a phone number, for comparing with the message's own addresses. */
export function phoneKey(value: string): string {
  return value.replace(/\D/g, '');
}
