/**
 * Certificate verification against a private CA (xmpp.ca_file), done with OpenSSL's primitives
 * through node:crypto's X509Certificate instead of by handing the CA to tls.connect.
 *
 * Why: in Node 20, giving tls.connect any `ca` first builds Node's whole bundled root store (~140
 * certificates parsed, ~20 ms per process) only to replace it. For a private server the roots are
 * not wanted anyway: the server is trusted exactly when its chain ends at a certificate in
 * ca_file. The handshake itself (the server proving it holds the leaf's private key) is done by
 * OpenSSL as always; this module decides trust, before a single byte is written on the stream.
 *
 * The checks, in OpenSSL's order: build a path from the leaf through the certificates the server
 * sent to one in ca_file (each link: issuer name matches and the signature verifies with the
 * issuer's key; intermediates must be CAs), every certificate on the path inside its validity
 * period, the leaf usable for TLS servers (extended key usage, when present), and the leaf's names
 * matching the account's domain (tls.checkServerIdentity, RFC 6125). A certificate that is itself
 * in ca_file (a pinned self-signed server certificate) is trusted directly.
 * Without xmpp.ca_file the session uses Node's standard verification against the public roots.
 */
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';
const MAX_DEPTH = 8;

export class CertificateError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CertificateError';
    this.code = code;
  }
}

export function parseAnchors(pem: string | readonly string[]): X509Certificate[] {
  const text = Array.isArray(pem) ? pem.join('\n') : (pem as string);
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** The chain the server presented, leaf first, as DER. */
export function presentedChain(socket: TLSSocket): { der: Buffer[]; leaf: PeerCertificate | null } {
  const leaf = socket.getPeerCertificate(true);
  if (!leaf || !leaf.raw) return { der: [], leaf: null };
  const der: Buffer[] = [];
  const seen = new Set<string>();
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf as PeerCertificate & { issuerCertificate?: PeerCertificate };
  while (current?.raw && !seen.has(current.fingerprint256) && der.length <= MAX_DEPTH + 1) {
    seen.add(current.fingerprint256);
    der.push(current.raw);
    current = current.issuerCertificate as (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined;
  }
  return { der, leaf };
}

function checkValidity(certificate: X509Certificate, now: number, what: string): void {
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  if (!(from <= now)) throw new CertificateError('CERT_NOT_YET_VALID', `${what} (${certificate.subject.replace(/\n/g, ', ')}) is not valid before ${certificate.validFrom}`);
  if (!(now <= to)) throw new CertificateError('CERT_HAS_EXPIRED', `${what} (${certificate.subject.replace(/\n/g, ', ')}) expired ${certificate.validTo}`);
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Throws a CertificateError when the chain does not lead to one of `anchors`, or the leaf is not
 * valid for `servername`. `leafInfo` is the leaf as tls reports it (for checkServerIdentity).
 */
export function verifyChain(chainDer: readonly Buffer[], leafInfo: PeerCertificate, anchors: readonly X509Certificate[], servername: string, now = Date.now()): void {
  if (chainDer.length === 0) throw new CertificateError('NO_CERTIFICATE', 'the server presented no certificate');
  if (anchors.length === 0) throw new CertificateError('NO_TRUST_ANCHOR', 'xmpp.ca_file holds no certificate');
  const presented = chainDer.map((der) => new X509Certificate(der));
  const leaf = presented[0]!;

  const usages = leaf.keyUsage;
  if (Array.isArray(usages) && usages.length > 0 && !usages.includes(SERVER_AUTH) && !usages.includes(ANY_EKU)) {
    throw new CertificateError('INVALID_PURPOSE', 'the server certificate is not for TLS servers (extended key usage lacks serverAuth)');
  }

  const pinned = anchors.some((anchor) => anchor.raw.equals(leaf.raw));
  if (pinned) {
    checkValidity(leaf, now, 'the server certificate');
  } else {
    let current = leaf;
    let depth = 0;
    for (;;) {
      checkValidity(current, now, depth === 0 ? 'the server certificate' : 'an intermediate certificate');
      if (depth > 0 && !current.ca) throw new CertificateError('INVALID_CA', `${current.subject.replace(/\n/g, ', ')} signed the next certificate but is not a CA`);
      const anchor = anchors.find((candidate) => issuedBy(current, candidate));
      if (anchor) {
        if (!anchor.ca && !anchor.raw.equals(current.raw)) throw new CertificateError('INVALID_CA', 'the certificate in xmpp.ca_file that signed the chain is not a CA');
        checkValidity(anchor, now, 'the CA certificate in xmpp.ca_file');
        break;
      }
      const next = presented.find((candidate) => candidate !== current && issuedBy(current, candidate));
      depth += 1;
      if (!next || depth > MAX_DEPTH) {
        throw new CertificateError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'the server certificate is not issued by the CA in xmpp.ca_file');
      }
      current = next;
    }
  }

  const nameError = checkServerIdentity(servername, leafInfo);
  if (nameError) throw new CertificateError((nameError as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID', nameError.message);
}
