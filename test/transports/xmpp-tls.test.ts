/**
 * verifyChain (src/transports/xmpp-tls.ts): trust decided against xmpp.ca_file. Certificates are
 * made with openssl at run time: a root CA, an intermediate CA, leaves for several names and
 * purposes, a leaf that is not a CA signing another leaf, expired and not-yet-valid leaves, a
 * foreign CA, and a pinned self-signed server certificate. Then the same checks over real TLS.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync as readFileNow } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnchors, presentedChain, verifyChain } from '../../src/transports/xmpp-tls.ts';

const run = promisify(execFile);
let dir: string;
const path = (name: string) => join(dir, name);
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function selfSigned(name: string, subject: string, extensions: string[], days = '2'): Promise<void> {
  await run('openssl', ['req', '-x509', ...ec, '-keyout', path(`${name}.key`), '-out', path(`${name}.pem`), '-days', days, '-subj', subject, ...extensions.flatMap((ext) => ['-addext', ext])]);
}

async function issue(name: string, issuer: string, subject: string, extensions: string[], validity: string[] = ['-days', '2']): Promise<void> {
  await run('openssl', ['req', ...ec, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject]);
  await writeFile(path(`${name}.ext`), `${extensions.join('\n')}\n`);
  if (validity[0] === '-days') {
    await run('openssl', ['x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${issuer}.pem`), '-CAkey', path(`${issuer}.key`), '-CAcreateserial', '-out', path(`${name}.pem`), ...validity, '-extfile', path(`${name}.ext`)]);
  } else {
    // Explicit dates need `openssl ca`-style control; x509 -req has -not_before/-not_after only in 3.4+, so use a tiny ca config.
    const [notBefore, notAfter] = validity;
    await writeFile(path('ca.cnf'), `[ca]\ndefault_ca=c\n[c]\ndatabase=${path('index.txt')}\nnew_certs_dir=${dir}\nserial=${path('serial')}\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\nunique_subject=no\n[p]\ncommonName=supplied\n`);
    await writeFile(path('index.txt'), '');
    await writeFile(path('serial'), '1000\n');
    await run('openssl', ['ca', '-batch', '-config', path('ca.cnf'), '-cert', path(`${issuer}.pem`), '-keyfile', path(`${issuer}.key`), '-in', path(`${name}.csr`), '-out', path(`${name}.pem`), '-startdate', notBefore!, '-enddate', notAfter!, '-extfile', path(`${name}.ext`), '-notext']);
  }
}

const SERVER = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'];
const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
const pem = (name: string) => readFile(path(`${name}.pem`), 'utf8');
const der = async (name: string) => new X509Certificate(await pem(name)).raw;
/** What tls reports for the leaf (enough for checkServerIdentity). */
async function info(name: string): Promise<PeerCertificate> {
  const certificate = new X509Certificate(await pem(name));
  return { subject: { CN: /CN=([^\n]+)/.exec(certificate.subject)?.[1] ?? '' }, subjectaltname: certificate.subjectAltName ?? '' } as unknown as PeerCertificate;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sendgate-xmpp-tls-'));
  await selfSigned('root', '/CN=Private Root', CA);
  await selfSigned('foreign', '/CN=Foreign Root', CA);
  await issue('inter', 'root', '/CN=Private Intermediate', CA);
  await issue('leaf', 'root', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org']);
  await issue('leafViaInter', 'inter', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org']);
  await issue('otherName', 'root', '/CN=other.example.org', [...SERVER, 'subjectAltName=DNS:other.example.org']);
  await issue('clientOnly', 'root', '/CN=chat.example.org', ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', 'subjectAltName=DNS:chat.example.org']);
  await issue('foreignLeaf', 'foreign', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org']);
  // A leaf (not a CA) used to sign a certificate for the target name: refused by its key usage...
  await issue('forged', 'otherName', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org']);
  // ...and, with no key usage extension to stop it, by basicConstraints CA:FALSE.
  await issue('notCa', 'root', '/CN=not-a-ca.example.org', ['basicConstraints=CA:FALSE', 'subjectAltName=DNS:not-a-ca.example.org']);
  await issue('forgedByNotCa', 'notCa', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org']);
  await issue('expired', 'root', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org'], ['20200101000000Z', '20200201000000Z']);
  await issue('future', 'root', '/CN=chat.example.org', [...SERVER, 'subjectAltName=DNS:chat.example.org'], ['20990101000000Z', '20990201000000Z']);
  await selfSigned('pinned', '/CN=chat.example.org', ['subjectAltName=DNS:chat.example.org', 'basicConstraints=critical,CA:FALSE']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('verifyChain', () => {
  const verify = async (chain: string[], anchors: string[], name = 'chat.example.org') =>
    verifyChain(await Promise.all(chain.map(der)), await info(chain[0]!), parseAnchors((await Promise.all(anchors.map(pem))).join('\n')), name);

  it('trusts a leaf issued by the CA, directly or through an intermediate the server sends', async () => {
    await expect(verify(['leaf'], ['root'])).resolves.toBeUndefined();
    await expect(verify(['leafViaInter', 'inter'], ['root'])).resolves.toBeUndefined();
    await expect(verify(['leafViaInter'], ['inter'])).resolves.toBeUndefined();
    await expect(verify(['leaf'], ['foreign', 'root'])).resolves.toBeUndefined();
  });

  it('trusts a pinned self-signed server certificate listed in the CA file', async () => {
    await expect(verify(['pinned'], ['pinned'])).resolves.toBeUndefined();
    await expect(verify(['pinned'], ['root'])).rejects.toMatchObject({ code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  });

  it.each([
    [['foreignLeaf'], ['root'], 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    [['leafViaInter'], ['root'], 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    [['forged', 'otherName'], ['root'], 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    [['forgedByNotCa', 'notCa'], ['root'], 'INVALID_CA'],
    [['expired'], ['root'], 'CERT_HAS_EXPIRED'],
    [['future'], ['root'], 'CERT_NOT_YET_VALID'],
    [['clientOnly'], ['root'], 'INVALID_PURPOSE'],
    [['otherName'], ['root'], 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ])('refuses %j against %j (%s)', async (chain, anchors, code) => {
    await expect(verify(chain, anchors)).rejects.toMatchObject({ code });
  });

  it('checks the name it is asked for, not the one the certificate offers', async () => {
    await expect(verify(['leaf'], ['root'], 'evil.example.org')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await expect(verify(['leaf'], ['root'], 'sub.chat.example.org')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('refuses an empty chain or an empty CA file', async () => {
    expect(() => verifyChain([], {} as PeerCertificate, parseAnchors(''), 'x')).toThrow(/no certificate/);
  });
});

describe('presentedChain over real TLS', () => {
  async function handshake(certs: string[], key: string): Promise<{ der: Buffer[]; leaf: PeerCertificate | null }> {
    const server = createServer({ key: await readFile(path(`${key}.key`)), cert: (await Promise.all(certs.map(pem))).join('\n') }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      return await new Promise((resolve, reject) => {
        const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'chat.example.org', ca: [], rejectUnauthorized: false }, () => {
          const chain = presentedChain(socket);
          socket.destroy();
          resolve(chain);
        });
        socket.on('error', reject);
      });
    } finally {
      server.close();
    }
  }

  it('reads leaf and intermediates from the handshake, and they verify against the root only', async () => {
    const { der: chain, leaf } = await handshake(['leafViaInter', 'inter'], 'leafViaInter');
    expect(chain).toHaveLength(2);
    expect(() => verifyChain(chain, leaf!, parseAnchors([readFileNow(path('root.pem'), 'utf8')]), 'chat.example.org')).not.toThrow();
    expect(() => verifyChain(chain, leaf!, parseAnchors([readFileNow(path('foreign.pem'), 'utf8')]), 'chat.example.org')).toThrow(/not issued by the CA/);
  });
});
