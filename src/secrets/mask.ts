/**
 * The only form in which a detected value ever leaves the scanner: a few leading characters and the
 * length. At most 4 characters and never more than 20% of the value are shown, so a short password
 * shows nothing of itself and a long token shows only its (public) prefix.
 */

export const MAX_SHOWN = 4;
export const MAX_SHOWN_SHARE = 0.2;

/** "ghp_…(40 chars)"; "…(7 chars)" style. Counts code points, so it never splits a character. */
export function mask(secret: string): string {
  const chars = [...secret];
  const shown = Math.min(MAX_SHOWN, Math.floor(chars.length * MAX_SHOWN_SHARE));
  // Never show a control character or a line break in a reason.
  const lead = chars.slice(0, shown).join('').replace(/[\u0000-\u001f\u007f]/g, '?');
  return `${lead}…(${chars.length} chars)`;
}
