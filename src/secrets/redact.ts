/**
 * Destinations can be credentials themselves (a Slack or Discord webhook URL carries its token in
 * the path). Where a destination is written down — output, audit log, outbox, approval requests —
 * a URL the scanner finds a secret in keeps only its origin.
 */
import { scanText } from './scan.ts';

export function redactDestination(display: string): string {
  const findings = scanText(display, { secrets: 'block', pii: 'off' }).filter((finding) => finding.kind === 'secret');
  if (findings.length === 0) return display;
  const rules = [...new Set(findings.map((finding) => finding.ruleId))].join(', ');
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+/i.exec(display)?.[0];
  return origin ? `${origin}/…(path withheld: ${rules})` : `…(withheld: ${rules})`;
}
