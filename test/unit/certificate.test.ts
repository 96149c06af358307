import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { chainVerifiesAgainst, describeLeaf, parseCertificates, spiffeIdOf, splitPemCertificates } from '../../src/core/judgement/certificate.js';
import { parseSecretsDump } from '../../src/core/judgement/envoy-secrets.js';
import { DumpError } from '../../src/core/model/errors.js';
import { createRootCa, issueLeaf, leafPrivateKeyPem } from '../../src/sandbox/emulator/pki.js';
import { at, HOUR, keyLeaks, leafPem, parseGoldenTable, readFixture, sameSerial, T0, testPki, thrown } from './core-test-kit.js';

function fixtureSecrets(name: 'secret-istio' | 'secret-spire') {
  const parsed = parseSecretsDump(readFixture(`${name}/config_dump.json`));
  const golden = parseGoldenTable(readFixture(`${name}/output`));
  return { parsed, golden };
}

describe('Istio fixtures against their golden istioctl tables', () => {
  it.each(['secret-istio', 'secret-spire'] as const)('%s: the default leaf has the golden serial and validity', (name) => {
    const { parsed, golden } = fixtureSecrets(name);
    const row = golden.find((r) => r['RESOURCE NAME'] === 'default' && r.STATUS === 'ACTIVE');
    expect(row).toBeDefined();
    const leaf = describeLeaf(parseCertificates(parsed.active[0]?.certificateChainPem ?? '')[0] as X509Certificate);
    expect(sameSerial(leaf.serialNumber, row?.['SERIAL NUMBER'] ?? '')).toBe(true);
    expect(leaf.serialNumber).toBe(leaf.serialNumber.toUpperCase());
    expect(Date.parse(leaf.notAfter)).toBe(Date.parse(row?.['NOT AFTER'] ?? ''));
    expect(Date.parse(leaf.notBefore)).toBe(Date.parse(row?.['NOT BEFORE'] ?? ''));
    expect(leaf.lifetimeSeconds).toBe((Date.parse(leaf.notAfter) - Date.parse(leaf.notBefore)) / 1000);
  });

  it('secret-istio: the ROOTCA bundle matches its golden row, leading zero of the serial included', () => {
    const { parsed, golden } = fixtureSecrets('secret-istio');
    const row = golden.find((r) => r['RESOURCE NAME'] === 'ROOTCA');
    const [rootCa] = parseCertificates(parsed.active[1]?.trustBundle?.pems ?? '');
    const described = describeLeaf(rootCa as X509Certificate);
    expect(row?.['SERIAL NUMBER']).toMatch(/^0/);
    expect(described.serialNumber.toLowerCase()).toBe(row?.['SERIAL NUMBER']);
    expect(Date.parse(described.notAfter)).toBe(Date.parse(row?.['NOT AFTER'] ?? ''));
    expect(Date.parse(described.notBefore)).toBe(Date.parse(row?.['NOT BEFORE'] ?? ''));
  });

  it('secret-spire: one bundle certificate per trust domain, in golden order', () => {
    const { parsed, golden } = fixtureSecrets('secret-spire');
    const rows = golden.filter((r) => r['RESOURCE NAME'] === 'ROOTCA');
    const bundle = parsed.active[1]?.trustBundle;
    expect(bundle?.trustDomains).toEqual(rows.map((r) => r['TRUST DOMAIN']));
    const certificates = parseCertificates(bundle?.pems ?? '').map(describeLeaf);
    expect(certificates).toHaveLength(rows.length);
    certificates.forEach((certificate, index) => {
      expect(sameSerial(certificate.serialNumber, rows[index]?.['SERIAL NUMBER'] ?? '')).toBe(true);
      expect(Date.parse(certificate.notAfter)).toBe(Date.parse(rows[index]?.['NOT AFTER'] ?? ''));
    });
  });

  it('reads the fixture SPIFFE IDs', () => {
    const istio = parseCertificates(fixtureSecrets('secret-istio').parsed.active[0]?.certificateChainPem ?? '');
    const spire = parseCertificates(fixtureSecrets('secret-spire').parsed.active[0]?.certificateChainPem ?? '');
    expect(spiffeIdOf(istio[0] as X509Certificate)).toBe('spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint');
    expect(spiffeIdOf(istio[1] as X509Certificate)).toBeNull();
    expect(spiffeIdOf(spire[0] as X509Certificate)).toBe('spiffe://east.local/ns/istio-system/sa/federation-ingress-gateway-service-account');
  });

  it('verifies both fixture chains against their ROOTCA bundles', () => {
    for (const name of ['secret-istio', 'secret-spire'] as const) {
      const { parsed } = fixtureSecrets(name);
      expect(chainVerifiesAgainst(parsed.active[0]?.certificateChainPem ?? '', parsed.active[1]?.trustBundle?.pems ?? '')).toBe(true);
    }
    const istio = fixtureSecrets('secret-istio').parsed;
    const spire = fixtureSecrets('secret-spire').parsed;
    expect(chainVerifiesAgainst(istio.active[0]?.certificateChainPem ?? '', spire.active[1]?.trustBundle?.pems ?? '')).toBe(false);
  });
});

describe('describeLeaf', () => {
  it('reports the serial, fingerprint, SPIFFE ID and validity the issuer wrote', async () => {
    const { root } = await testPki();
    const leaf = await issueLeaf(root, {
      notBefore: T0,
      notAfter: at(HOUR),
      spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
      serialNumber: '0a1b2c3d4e5f',
    });
    const certificate = new X509Certificate(leaf.certificatePem);
    expect(describeLeaf(certificate)).toEqual({
      serialNumber: '0A1B2C3D4E5F',
      fingerprintSha256: certificate.fingerprint256,
      spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
      notBefore: '2030-01-01T00:00:00.000Z',
      notAfter: '2030-01-01T01:00:00.000Z',
      notBeforeMs: T0.getTime(),
      notAfterMs: at(HOUR).getTime(),
      lifetimeSeconds: 3600,
    });
    expect(certificate.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('reports no SPIFFE ID for a leaf without a URI SAN', async () => {
    const { root } = await testPki();
    const [certificate] = parseCertificates(await leafPem(root, { spiffeId: null }));
    expect(describeLeaf(certificate as X509Certificate).spiffeId).toBeNull();
  });
});

describe('splitPemCertificates / parseCertificates', () => {
  it('keeps CERTIFICATE blocks in order and drops any other block unread', async () => {
    const { root, intermediate } = await testPki();
    const keyPem = await leafPrivateKeyPem();
    const leaf = await leafPem(intermediate);
    const blocks = splitPemCertificates(`${leaf}\n${keyPem}\n${intermediate.certificatePem}\n${root.certificatePem}`);
    expect(blocks).toHaveLength(3);
    expect(keyLeaks(blocks.join(''), keyPem)).toEqual([]);
    const fingerprints = blocks.map((pem) => new X509Certificate(pem).fingerprint256);
    expect(fingerprints).toEqual([leaf, intermediate.certificatePem, root.certificatePem].map((pem) => new X509Certificate(pem).fingerprint256));
  });

  it('tolerates CRLF line ends and text between blocks', async () => {
    const { root } = await testPki();
    const crlf = `subject=foo\r\n${root.certificatePem.replace(/\n/g, '\r\n')}\r\n`;
    expect(parseCertificates(crlf).map((c) => c.fingerprint256)).toEqual([new X509Certificate(root.certificatePem).fingerprint256]);
  });

  it.each([
    ['no certificate at all', 'hello', 'chain contains no PEM CERTIFICATE block'],
    ['only a private key', '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n', 'chain contains no PEM CERTIFICATE block'],
    ['a garbage body', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'chain: certificate 1 of 1 is not a valid X.509 certificate'],
    ['a missing END line', '-----BEGIN CERTIFICATE-----\nMIIB\n', 'CERTIFICATE block without its END line'],
    ['a mismatched END line', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----\n', 'mismatched END line'],
  ])('rejects %s with a DumpError', (_label, pem, message) => {
    const error = thrown(() => parseCertificates(pem, 'chain'));
    expect(error).toBeInstanceOf(DumpError);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('MIIB');
  });

  it('names the certificate that fails and keeps the cause', async () => {
    const { root } = await testPki();
    const error = thrown(() => parseCertificates(`${root.certificatePem}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, 'bundle'));
    expect(error.message).toBe('bundle: certificate 2 of 2 is not a valid X.509 certificate');
    expect(error.cause).toBeDefined();
  });
});

describe('chainVerifiesAgainst', () => {
  it('verifies a leaf issued by a bundle root', async () => {
    const { root } = await testPki();
    expect(chainVerifiesAgainst(await leafPem(root), root.certificatePem)).toBe(true);
  });

  it('walks leaf -> intermediate -> bundle root, intermediates in any order', async () => {
    const { root, intermediate } = await testPki();
    const leaf = await leafPem(intermediate);
    expect(chainVerifiesAgainst(`${leaf}\n${intermediate.certificatePem}`, root.certificatePem)).toBe(true);
    expect(chainVerifiesAgainst(`${leaf}\n${root.certificatePem}\n${intermediate.certificatePem}`, root.certificatePem)).toBe(true);
  });

  it('accepts a bundle that holds the intermediate rather than the root', async () => {
    const { intermediate } = await testPki();
    const leaf = await leafPem(intermediate);
    expect(chainVerifiesAgainst(`${leaf}\n${intermediate.certificatePem}`, intermediate.certificatePem)).toBe(true);
  });

  it('accepts a chain certificate that is itself in the bundle, even one that issued nothing', async () => {
    const { root } = await testPki();
    const leaf = await leafPem(root);
    // The leaf is not self-issued, so only the "equals a bundle certificate" rule can accept it.
    expect(chainVerifiesAgainst(leaf, leaf)).toBe(true);
  });

  it('finds the issuing root anywhere in a multi-root bundle', async () => {
    const { root, otherRoot } = await testPki();
    expect(chainVerifiesAgainst(await leafPem(root), `${otherRoot.certificatePem}\n${root.certificatePem}`)).toBe(true);
  });

  it('rejects a leaf from another root', async () => {
    const { root, otherRoot } = await testPki();
    expect(chainVerifiesAgainst(await leafPem(otherRoot), root.certificatePem)).toBe(false);
  });

  it('rejects a chain missing its intermediate', async () => {
    const { root, intermediate } = await testPki();
    expect(chainVerifiesAgainst(await leafPem(intermediate), root.certificatePem)).toBe(false);
  });

  it('rejects a look-alike issuer whose key did not sign the leaf', async () => {
    const { root } = await testPki();
    const impostor = await createRootCa('example.org');
    // Same subject name as `root`, different key: the name matches, the signature does not.
    expect(new X509Certificate(impostor.certificatePem).subject).toBe(new X509Certificate(root.certificatePem).subject);
    expect(chainVerifiesAgainst(await leafPem(root), impostor.certificatePem)).toBe(false);
  });

  it('accepts parsed certificates as well as PEM text, and an empty list never verifies', async () => {
    const { root } = await testPki();
    const chain = parseCertificates(await leafPem(root));
    expect(chainVerifiesAgainst(chain, parseCertificates(root.certificatePem))).toBe(true);
    expect(chainVerifiesAgainst([], parseCertificates(root.certificatePem))).toBe(false);
    expect(chainVerifiesAgainst(chain, [])).toBe(false);
  });

  it('throws a DumpError for a malformed bundle', async () => {
    const { root } = await testPki();
    expect(() => chainVerifiesAgainst(root.certificatePem, 'not a bundle')).toThrow(DumpError);
  });
});
