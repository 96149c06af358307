/**
 * Whole-chain judgement (docs/contract.md §2-§3): intermediates and roots on the leaf's path, the
 * SPIFFE validator's per-trust-domain bundles, leaves without a SPIFFE ID, leaves from the future,
 * the Istio agent's file-mounted secrets and `filename` data sources.
 */
import { describe, expect, it } from '@jest/globals';
import type { X509Certificate } from 'node:crypto';
import { chainProblemAt, parseCertificates, trustDomainOf } from '../../src/core/judgement/certificate.js';
import { classifySecrets, FILE_REFERENCE_ERROR } from '../../src/core/judgement/classify.js';
import { parseSecretsDump } from '../../src/core/judgement/envoy-secrets.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { Thresholds } from '../../src/core/model/types.js';
import { agentVersionInfo, type RootCaSpec, type SecretSpec } from '../../src/sandbox/emulator/envoy-dump.js';
import { createIntermediateCa, createRootCa, type CertificateAuthority } from '../../src/sandbox/emulator/pki.js';
import { at, HOUR, leafPem, parseFull, parseResource, T0, testPki } from './core-test-kit.js';

const PERCENT: Thresholds = DEFAULT_THRESHOLDS;
const POD = { namespace: 'shop', serviceAccount: 'carts', workloadCertsBesideSocket: false };
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
const window = (fromSeconds: number, toSeconds: number) => ({ notBefore: at(fromSeconds), notAfter: at(toSeconds) });

function judge(secrets: SecretSpec[], now = at(60), thresholds = PERCENT) {
  return classifySecrets(parseResource(secrets), { now, thresholds, pod: POD });
}

const trustedCa = (ca: CertificateAuthority | string): RootCaSpec => ({ shape: 'trusted_ca', bundlePem: typeof ca === 'string' ? ca : ca.certificatePem });
const spiffe = (...domains: [string, CertificateAuthority][]): RootCaSpec => ({
  shape: 'spiffe',
  trustDomains: domains.map(([name, ca]) => ({ name, bundlePem: ca.certificatePem })),
});

describe('bundle-mismatch: every intermediate and root on the path must be valid now', () => {
  it('flags an expired intermediate, and one not valid yet, but not a valid one', async () => {
    const { root } = await testPki();
    const expired = await createIntermediateCa(root, 'expired intermediate', { validity: window(-YEAR, -1) });
    const future = await createIntermediateCa(root, 'future intermediate', { validity: window(DAY, YEAR) });
    const valid = await createIntermediateCa(root, 'valid intermediate', { validity: window(-DAY, YEAR) });
    for (const [issuer, findings] of [
      [expired, ['bundle-mismatch']],
      [future, ['bundle-mismatch']],
      [valid, []],
    ] as const) {
      const chainPem = `${await leafPem(issuer)}${issuer.certificatePem}`;
      const verdict = judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: trustedCa(root) }]);
      expect(verdict).toMatchObject({ state: 'healthy', findings });
    }
  });

  it('judges the intermediate at its exact edges: expired at notAfter, valid at notBefore minus the allowance', async () => {
    const { root } = await testPki();
    const intermediate = await createIntermediateCa(root, 'short intermediate', { validity: window(0, 2 * HOUR) });
    const chainPem = `${await leafPem(intermediate, { notBefore: at(-30 * 60) })}${intermediate.certificatePem}`;
    const secrets: SecretSpec[] = [{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: trustedCa(root) }];
    expect(judge(secrets, at(2 * HOUR - 1)).findings).not.toContain('bundle-mismatch');
    // The leaf outlives its intermediate here: at the intermediate's notAfter peers reject the chain.
    const leafOutliving = `${await leafPem(intermediate, { notBefore: at(HOUR + 1800) })}${intermediate.certificatePem}`;
    expect(judge([{ name: 'default', chainPem: leafOutliving }, { name: 'ROOTCA', rootCa: trustedCa(root) }], at(2 * HOUR)).findings).toContain('bundle-mismatch');
    expect(judge(secrets, at(-60)).findings).not.toContain('bundle-mismatch');
    expect(judge(secrets, new Date(at(-60).getTime() - 1)).findings).toContain('bundle-mismatch');
  });

  it('flags an expired root in the bundle, and accepts a root rotation where a valid root still anchors the chain', async () => {
    const expiredRoot = await createRootCa('example.org', window(-2 * YEAR, -DAY));
    const newRoot = await createRootCa('example.org', window(-DAY, YEAR));
    const fromExpired = await leafPem(expiredRoot);
    const fromNew = await leafPem(newRoot);
    const bothRoots = `${expiredRoot.certificatePem}${newRoot.certificatePem}`;
    expect(judge([{ name: 'default', chainPem: fromExpired }, { name: 'ROOTCA', rootCa: trustedCa(bothRoots) }]).findings).toEqual(['bundle-mismatch']);
    expect(judge([{ name: 'default', chainPem: fromNew }, { name: 'ROOTCA', rootCa: trustedCa(bothRoots) }]).findings).toEqual([]);
    expect(
      judge([{ name: 'default', chainPem: fromExpired }, { name: 'ROOTCA', rootCa: spiffe(['example.org', expiredRoot]) }], at(60)).findings,
    ).toEqual(['bundle-mismatch']);
  });

  it('takes a valid path when the chain also offers an expired twin of the intermediate', async () => {
    const { root } = await testPki();
    const current = await createIntermediateCa(root, 'twin intermediate', { validity: window(-DAY, YEAR) });
    const expiredTwin = await createIntermediateCa(root, 'twin intermediate', { validity: window(-YEAR, -DAY), keysOf: current });
    const leaf = await leafPem(current);
    // Expired twin listed first: a greedy walk would take it and fail.
    const verdict = judge([{ name: 'default', chainPem: `${leaf}${expiredTwin.certificatePem}${current.certificatePem}` }, { name: 'ROOTCA', rootCa: trustedCa(root) }]);
    expect(verdict.findings).toEqual([]);
    const onlyExpired = judge([{ name: 'default', chainPem: `${leaf}${expiredTwin.certificatePem}` }, { name: 'ROOTCA', rootCa: trustedCa(root) }]);
    expect(onlyExpired.findings).toEqual(['bundle-mismatch']);
  });

  it('chainProblemAt names the certificate and the date that broke the path', async () => {
    const { root } = await testPki();
    const expired = await createIntermediateCa(root, 'named expired intermediate', { validity: window(-YEAR, -10) });
    const chain = parseCertificates(`${await leafPem(expired)}${expired.certificatePem}`);
    const anchors = parseCertificates(root.certificatePem);
    expect(chainProblemAt(chain, anchors, { nowMs: at(60).getTime(), clockSkewAllowanceMs: 60_000 })).toEqual({
      kind: 'expired',
      subject: expect.stringContaining('named expired intermediate') as unknown as string,
      at: at(-10).toISOString(),
    });
    expect(chainProblemAt(chain, [] as X509Certificate[], { nowMs: at(60).getTime(), clockSkewAllowanceMs: 0 })).toEqual({ kind: 'untrusted' });
    const { otherRoot } = await testPki();
    expect(chainProblemAt(chain, parseCertificates(otherRoot.certificatePem), { nowMs: at(60).getTime(), clockSkewAllowanceMs: 0 })).toEqual({ kind: 'untrusted' });
  });
});

describe('bundle-mismatch: the SPIFFE validator checks the leaf against its own trust domain only', () => {
  it('flags a leaf whose trust domain has no bundle, even when another domain bundle would verify it', async () => {
    const { root, otherRoot } = await testPki();
    const chainPem = await leafPem(root); // spiffe://example.org/...
    const misfiled = judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: spiffe(['example.org', otherRoot], ['other.example', root]) }]);
    expect(misfiled.findings).toEqual(['bundle-mismatch']);
    const absent = judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: spiffe(['other.example', root]) }]);
    expect(absent.findings).toEqual(['bundle-mismatch']);
    const right = judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: spiffe(['other.example', otherRoot], ['example.org', root]) }]);
    expect(right.findings).toEqual([]);
  });

  it('pools a trusted_ca bundle (the Istio agent): any of its roots verifies', async () => {
    const { root, otherRoot } = await testPki();
    const verdict = judge([{ name: 'default', chainPem: await leafPem(root) }, { name: 'ROOTCA', rootCa: trustedCa(`${otherRoot.certificatePem}${root.certificatePem}`) }]);
    expect(verdict.findings).toEqual([]);
  });

  it('matches trust domain names case-insensitively and with a spiffe:// prefix', async () => {
    const { root } = await testPki();
    const chainPem = await leafPem(root, { spiffeId: 'spiffe://Example.ORG/ns/shop/sa/carts' });
    expect(judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: spiffe(['spiffe://example.org', root]) }]).findings).toEqual([]);
    expect(trustDomainOf('spiffe://Example.ORG/ns/a/sa/b')).toBe('example.org');
    expect(trustDomainOf('spiffe://')).toBeNull();
    expect(trustDomainOf(null)).toBeNull();
  });

  it('a leaf with no SPIFFE ID cannot pick a bundle: identity-mismatch and bundle-mismatch', async () => {
    const { root } = await testPki();
    const chainPem = await leafPem(root, { spiffeId: null });
    expect(judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: spiffe(['example.org', root]) }]).findings).toEqual([
      'identity-mismatch',
      'bundle-mismatch',
    ]);
    // trusted_ca does not need the trust domain: only the identity is wrong.
    expect(judge([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa: trustedCa(root) }]).findings).toEqual(['identity-mismatch']);
  });

  it('does not judge a trust domain bundle given as a file reference', async () => {
    const { root } = await testPki();
    const parsed = parseSecretsDump(
      JSON.stringify({
        configs: [
          {
            '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
            name: 'default',
            secret: { name: 'default', tls_certificate: { certificate_chain: { inline_string: await leafPem(root) } } },
          },
          {
            '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
            name: 'ROOTCA',
            secret: {
              name: 'ROOTCA',
              validation_context: {
                custom_validator_config: {
                  name: 'envoy.tls.cert_validator.spiffe',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig',
                    trust_domains: [{ name: 'example.org', trust_bundle: { filename: '/var/run/secrets/bundle.pem' } }],
                  },
                },
              },
            },
          },
        ],
      }),
    );
    expect(parsed.active[1]?.trustBundle?.domainBundles).toEqual([{ name: 'example.org', pem: null, reference: 'filename' }]);
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: POD }).findings).toEqual([]);
  });
});

describe('not-yet-valid: a leaf from the future is never healthy', () => {
  it.each([
    // [offset of now from notBefore (s), allowance, state, findings]
    [-61, undefined, 'expired', ['not-yet-valid']],
    [-60, undefined, 'healthy', []], // exactly the default allowance (60 s): still accepted
    [-1, 0, 'expired', ['not-yet-valid']],
    [0, 0, 'healthy', []],
    [-300, 300, 'healthy', []],
    [-301, 300, 'expired', ['not-yet-valid']],
  ] as const)('now = notBefore %+d s with allowance %p s -> %s %p', async (offset, allowance, state, findings) => {
    const { root } = await testPki();
    const thresholds: Thresholds = allowance === undefined ? PERCENT : { ...PERCENT, clockSkewAllowanceSeconds: allowance };
    const verdict = judge([{ name: 'default', chainPem: await leafPem(root) }, { name: 'ROOTCA', rootCa: trustedCa(root) }], at(offset), thresholds);
    expect(verdict.state).toBe(state);
    expect(verdict.findings).toEqual(findings);
    expect(verdict.certificate?.ageSeconds).toBe(0);
  });

  it('a future leaf that is also stale-looking by push age has no push finding (age counts from notBefore)', async () => {
    const { root } = await testPki();
    const verdict = judge([{ name: 'default', chainPem: await leafPem(root), lastUpdated: at(-3 * HOUR), versionInfo: agentVersionInfo(at(-3 * HOUR), 1) }], at(-HOUR));
    expect(verdict).toMatchObject({ state: 'expired', findings: ['not-yet-valid'] });
  });
});

describe('file-mounted secrets and file references', () => {
  const FILE_CERT = 'file-cert:/etc/certs/cert-chain.pem~/etc/certs/key.pem';
  const FILE_ROOT = 'file-root:/etc/certs/root-cert.pem';

  it('judges file-cert:/file-root: like default/ROOTCA when no default is served', async () => {
    const { root, otherRoot } = await testPki();
    const healthy = parseFull({
      active: [
        { name: FILE_CERT, versionInfo: agentVersionInfo(T0, 4), lastUpdated: T0, chainPem: await leafPem(root) },
        { name: FILE_ROOT, versionInfo: agentVersionInfo(T0, 5), rootCa: trustedCa(root) },
      ],
    });
    expect(classifySecrets(healthy, { now: at(60), thresholds: PERCENT, pod: POD })).toMatchObject({ state: 'healthy', findings: [], source: 'istio-agent' });
    const stale = classifySecrets(healthy, { now: at(2400), thresholds: PERCENT, pod: POD });
    expect(stale).toMatchObject({ state: 'stale', findings: ['sds-pushes-stopped'] });
    const foreign = parseFull({ active: [{ name: FILE_CERT, chainPem: await leafPem(root) }, { name: FILE_ROOT, rootCa: trustedCa(otherRoot) }] });
    expect(classifySecrets(foreign, { now: at(60), thresholds: PERCENT }).findings).toEqual(['bundle-mismatch']);
  });

  it('prefers default and ROOTCA when Envoy holds both kinds', async () => {
    const { root, otherRoot } = await testPki();
    const parsed = parseFull({
      active: [
        { name: FILE_CERT, chainPem: await leafPem(otherRoot, { notBefore: at(-2 * HOUR) }) },
        { name: 'default', chainPem: await leafPem(root) },
        { name: FILE_ROOT, rootCa: trustedCa(otherRoot) },
        { name: 'ROOTCA', rootCa: trustedCa(root) },
      ],
    });
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: POD })).toMatchObject({ state: 'healthy', findings: [] });
  });

  it('is unreachable, not missing, when the chain is a filename data source', () => {
    const parsed = parseSecretsDump(
      JSON.stringify({
        configs: [
          {
            '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
            dynamic_active_secrets: [
              {
                name: 'default',
                version_info: agentVersionInfo(T0, 2),
                secret: {
                  name: 'default',
                  tls_certificate: { certificate_chain: { filename: '/etc/certs/cert-chain.pem' }, private_key: { filename: '/etc/certs/key.pem' } },
                },
              },
            ],
          },
        ],
      }),
    );
    expect(parsed.active[0]?.certificateChainReference).toBe('filename');
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: POD });
    expect(verdict).toMatchObject({ state: 'unreachable', findings: [], certificate: null, error: FILE_REFERENCE_ERROR, source: 'istio-agent' });
    expect(FILE_REFERENCE_ERROR).toBe('cannot judge: the certificate is a file reference');
  });

  it('a warming default with no file-cert is still missing', async () => {
    const { root } = await testPki();
    const parsed = parseFull({ active: [{ name: FILE_ROOT, rootCa: trustedCa(root) }], warming: [{ name: 'default', versionInfo: 'uninitialized' }] });
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT }).state).toBe('missing');
  });
});
