/**
 * Names that mean "inside" whatever DNS says: special-use and private-use domains, cloud metadata
 * names, and single-label names (resolved through the local search path). They are reachable only
 * when every address they resolve to lies in a range the operator opened (network.allow_private).
 */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com', 'metadata.tencentyun.com', 'metadata.platformequinix.com']);
const INTERNAL_SUFFIXES = ['.localhost', '.local', '.internal', '.intranet', '.lan', '.home', '.corp', '.private', '.home.arpa', '.localdomain', '.in-addr.arpa', '.ip6.arpa', '.test', '.invalid', '.example', '.onion', '.alt', '.svc'];

export function internalName(host: string): string | null {
  if (METADATA_NAMES.has(host)) return 'cloud-metadata name';
  if (host === 'localhost') return 'localhost';
  if (!host.includes('.')) return 'single-label name (resolved through the local search domain)';
  const suffix = INTERNAL_SUFFIXES.find((s) => host.endsWith(s));
  return suffix ? `special-use domain ${suffix}` : null;
}
