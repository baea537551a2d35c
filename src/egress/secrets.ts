/**
 * The payload scanner (src/secrets/scan.ts) as the egress checker uses it: secrets only (personal
 * data in a shell command is not the hook's business), masked findings only.
 */
import { scanText } from '../secrets/scan.ts';
import type { SecretFinding } from './check.ts';

export function scanForEgress(text: string): SecretFinding[] {
  return scanText(text, { secrets: 'block', pii: 'off', maxFindings: 5 })
    .filter((finding) => finding.kind === 'secret')
    .map((finding) => ({ kind: finding.description, masked: finding.masked }));
}
