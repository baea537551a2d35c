/**
 * A short, masked preview of a message for audit records and approval prompts. Long token-like
 * runs (anything that could be a credential the scanner did not recognise) keep only their first
 * characters and length, so a preview can never carry a whole secret.
 */
const TOKEN_LIKE = /[A-Za-z0-9+/=_\-.~:]{16,}/g;

export function maskTokens(text: string): string {
  return text.replace(TOKEN_LIKE, (run) => (/^[a-z]+$/i.test(run) || /^https?:\/\/[a-z0-9.-]+\/?$/i.test(run) ? run : `${run.slice(0, 4)}…(${run.length} chars)`));
}

export function preview(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max)}…` : flat;
  return maskTokens(cut);
}
