import { describe, expect, it } from '@jest/globals';
import { classifySecrets, identityMatches, podWorkloadCertsBesideSocket, unreachableVerdict } from '../../src/core/judgement/classify.js';
import { parseSecretsDump, type ParsedSecrets } from '../../src/core/judgement/envoy-secrets.js';
import { DumpError } from '../../src/core/model/errors.js';
import { renderSweepTable, renderVerdictTable } from '../../src/core/render/render.js';
import { summarize } from '../../src/core/judgement/summary.js';
import { DEFAULT_THRESHOLDS, parseThreshold } from '../../src/core/model/threshold.js';
import type { Thresholds } from '../../src/core/model/types.js';
import { agentVersionInfo, resourceSecretsDump, tbotVersionInfo, type RootCaSpec, type SecretSpec } from '../../src/sandbox/emulator/envoy-dump.js';
import { leafPrivateKeyPem } from '../../src/sandbox/emulator/pki.js';
import { at, HOUR, keyLeaks, leafPem, parseFull, parseResource, readFixture, sharesRun, T0, testPki, thrown } from './core-test-kit.js';

const PERCENT: Thresholds = DEFAULT_THRESHOLDS; // stale after 60% (2160 s of 1 h), expiring within 20% (720 s)
const DURATION: Thresholds = { staleAfter: parseThreshold('30m'), expiringWithin: parseThreshold('10m') };
const POD = { namespace: 'shop', serviceAccount: 'carts', workloadCertsBesideSocket: false };

interface Scenario {
  readonly lastUpdated?: Date | null;
  readonly versionInfo?: string | null;
  /** null = no ROOTCA secret. Default: trusted_ca with the issuing root. */
  readonly rootCa?: RootCaSpec | null;
  readonly chainPem?: string;
}

/** A 1 h leaf issued by the test root at T0, as the `?resource=dynamic_active_secrets` form. */
async function scenario(options: Scenario = {}): Promise<ParsedSecrets> {
  const { root } = await testPki();
  const secrets: SecretSpec[] = [
    {
      name: 'default',
      versionInfo: options.versionInfo ?? null,
      lastUpdated: options.lastUpdated ?? null,
      chainPem: options.chainPem ?? (await leafPem(root)),
    },
  ];
  const rootCa = options.rootCa === undefined ? { shape: 'trusted_ca' as const, bundlePem: root.certificatePem } : options.rootCa;
  if (rootCa !== null) secrets.push({ name: 'ROOTCA', rootCa });
  return parseResource(secrets);
}

describe('classifySecrets: states at their boundaries', () => {
  describe.each([
    ['percentage thresholds 60% / 20%', PERCENT, 2160, 720],
    ['duration thresholds 30m / 10m', DURATION, 1800, 600],
  ])('%s', (_label, thresholds, staleAfter, expiringWithin) => {
    it.each([
      [-60, 'healthy'], // not yet valid: age clamps to 0
      [0, 'healthy'],
      [staleAfter - 1, 'healthy'],
      [staleAfter, 'stale'],
      [staleAfter + 1, 'stale'],
      [HOUR - expiringWithin - 1, 'stale'],
      [HOUR - expiringWithin, 'stale'], // remaining == threshold: not yet expiring
      [HOUR - expiringWithin + 1, 'expiring'],
      [HOUR - 1, 'expiring'],
      [HOUR, 'expired'], // now == notAfter
      [HOUR + 1, 'expired'],
    ])('at T0 + %d s the leaf is %s', async (offset, state) => {
      const verdict = classifySecrets(await scenario({ lastUpdated: T0 }), { now: at(offset), thresholds });
      expect(verdict.state).toBe(state);
      expect(verdict.certificate?.ageSeconds).toBe(Math.max(0, offset));
      expect(verdict.certificate?.remainingSeconds).toBe(HOUR - offset);
      expect(verdict.certificate?.lifetimeSeconds).toBe(HOUR);
      expect(verdict.error).toBeUndefined();
    });

    it('a push one second younger than the stale threshold with an old leaf is a push without rotation', async () => {
      const now = at(staleAfter);
      const verdict = classifySecrets(await scenario({ lastUpdated: at(-(staleAfter - 1), now) }), { now, thresholds });
      expect(verdict.state).toBe('stale');
      expect(verdict.findings).toEqual(['sds-push-without-rotation']);
    });

    it('a push exactly as old as the stale threshold means pushes stopped', async () => {
      const now = at(staleAfter);
      const verdict = classifySecrets(await scenario({ lastUpdated: at(-staleAfter, now) }), { now, thresholds });
      expect(verdict.findings).toEqual(['sds-pushes-stopped']);
    });

    it('no recorded push with an old leaf means pushes stopped', async () => {
      const verdict = classifySecrets(await scenario({ lastUpdated: null }), { now: at(staleAfter), thresholds });
      expect(verdict.findings).toEqual(['sds-pushes-stopped']);
    });

    it('a leaf one second short of the stale threshold has no push finding, whatever the push age', async () => {
      const now = at(staleAfter - 1);
      expect(classifySecrets(await scenario({ lastUpdated: null }), { now, thresholds }).findings).toEqual([]);
      expect(classifySecrets(await scenario({ lastUpdated: now }), { now, thresholds }).findings).toEqual([]);
    });

    it('keeps push findings on expiring and expired leaves', async () => {
      const expiring = classifySecrets(await scenario({ lastUpdated: T0 }), { now: at(HOUR - 1), thresholds });
      expect(expiring).toMatchObject({ state: 'expiring', findings: ['sds-pushes-stopped'] });
      const expired = classifySecrets(await scenario({ lastUpdated: at(HOUR - 5) }), { now: at(HOUR), thresholds });
      expect(expired).toMatchObject({ state: 'expired', findings: ['sds-push-without-rotation'] });
    });
  });

  it('worst wins: 50 minutes into a 1 h leaf is both stale and expiring, so expiring', async () => {
    const verdict = classifySecrets(await scenario(), { now: at(50 * 60), thresholds: PERCENT });
    expect(verdict.state).toBe('expiring');
    expect(verdict.findings).toContain('sds-pushes-stopped');
  });

  it('judges the boundary to the millisecond, reporting whole seconds', async () => {
    const verdict = classifySecrets(await scenario(), { now: new Date(at(2160).getTime() - 1), thresholds: PERCENT });
    expect(verdict.state).toBe('healthy');
    expect(verdict.certificate?.ageSeconds).toBe(2159);
    expect(verdict.certificate?.remainingSeconds).toBe(1440);
  });
});

describe('classifySecrets: missing and unreachable', () => {
  it('is missing with no secrets at all', () => {
    const verdict = classifySecrets({ active: [], warming: [] }, { now: T0, thresholds: PERCENT });
    expect(verdict).toEqual({ state: 'missing', findings: [], source: 'unknown', certificate: null, secrets: [] });
  });

  it('is missing when `default` is only warming', async () => {
    const { root } = await testPki();
    const parsed = parseFull({
      active: [{ name: 'ROOTCA', rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } }],
      warming: [{ name: 'default', versionInfo: 'uninitialized', chainPem: await leafPem(root) }],
    });
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT });
    expect(verdict.state).toBe('missing');
    expect(verdict.certificate).toBeNull();
    expect(verdict.secrets).toEqual([
      { name: 'ROOTCA', versionInfo: null, lastUpdated: null, pushAgeSeconds: null },
      { name: 'default', versionInfo: 'uninitialized', lastUpdated: null, pushAgeSeconds: null },
    ]);
  });

  it('is missing when the active `default` carries no chain or a blank one', () => {
    const noChain = parseResource([{ name: 'default', versionInfo: agentVersionInfo(T0, 1) }]);
    expect(classifySecrets(noChain, { now: T0, thresholds: PERCENT }).state).toBe('missing');
    const blank = parseSecretsDump(
      JSON.stringify({
        configs: [
          {
            '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
            name: 'default',
            secret: { name: 'default', tls_certificate: { certificate_chain: { inline_string: ' \n' } } },
          },
        ],
      }),
    );
    expect(classifySecrets(blank, { now: T0, thresholds: PERCENT }).state).toBe('missing');
  });

  it('is unreachable, with the reason, when the `default` chain is not certificates', async () => {
    const parsed = await scenario({ chainPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', lastUpdated: T0 });
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: POD });
    expect(verdict.state).toBe('unreachable');
    expect(verdict.certificate).toBeNull();
    expect(verdict.findings).toEqual([]);
    expect(verdict.error).toBe('"default" certificate chain: certificate 1 of 1 is not a valid X.509 certificate');
    expect(verdict.secrets.map((s) => s.name)).toEqual(['default', 'ROOTCA']);
  });

  it('unreachableVerdict carries only the error', () => {
    expect(unreachableVerdict('exec failed: container not found')).toEqual({
      state: 'unreachable',
      findings: [],
      source: 'unknown',
      certificate: null,
      secrets: [],
      error: 'exec failed: container not found',
    });
  });
});

describe('classifySecrets: identity, bundle and volume findings', () => {
  it.each([
    ['spiffe://example.org/ns/shop/sa/carts', []],
    ['spiffe://other.domain/ns/shop/sa/carts', []],
    ['spiffe://example.org/ns/shop/sa/cart', ['identity-mismatch']],
    ['spiffe://example.org/ns/shop/sa/carts/extra', ['identity-mismatch']],
    ['spiffe://example.org/ns/shops/sa/carts', ['identity-mismatch']],
    ['spiffe://example.org/sa/carts/ns/shop', ['identity-mismatch']],
    [null, ['identity-mismatch']],
  ])('leaf %p for pod shop/carts -> %p', async (spiffeId, findings) => {
    const { root } = await testPki();
    const parsed = await scenario({ chainPem: await leafPem(root, { spiffeId }) });
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: POD }).findings).toEqual(findings);
  });

  it('without pod context, a leaf with no SPIFFE ID is still an identity mismatch; one with any SPIFFE ID is not', async () => {
    const { root } = await testPki();
    const noId = await scenario({ chainPem: await leafPem(root, { spiffeId: null }) });
    expect(classifySecrets(noId, { now: at(60), thresholds: PERCENT }).findings).toEqual(['identity-mismatch']);
    const otherId = await scenario({ chainPem: await leafPem(root, { spiffeId: 'spiffe://example.org/ns/elsewhere/sa/anyone' }) });
    expect(classifySecrets(otherId, { now: at(60), thresholds: PERCENT }).findings).toEqual([]);
  });

  it('identityMatches compares the path exactly', () => {
    expect(identityMatches('spiffe://td/ns/a/sa/b', { namespace: 'a', serviceAccount: 'b' })).toBe(true);
    expect(identityMatches('spiffe://td/ns/a/sa/b/', { namespace: 'a', serviceAccount: 'b' })).toBe(false);
    expect(identityMatches('spiffe://td', { namespace: 'a', serviceAccount: 'b' })).toBe(false);
  });

  it('flags a chain that does not verify against a trusted_ca bundle', async () => {
    const { otherRoot } = await testPki();
    const parsed = await scenario({ rootCa: { shape: 'trusted_ca', bundlePem: otherRoot.certificatePem } });
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT }).findings).toEqual(['bundle-mismatch']);
  });

  it('verifies against any trust domain of a SPIFFE bundle, and flags when none issued the chain', async () => {
    const { root, otherRoot } = await testPki();
    const both = await scenario({
      rootCa: { shape: 'spiffe', trustDomains: [{ name: 'other.example', bundlePem: otherRoot.certificatePem }, { name: 'example.org', bundlePem: root.certificatePem }] },
    });
    expect(classifySecrets(both, { now: at(60), thresholds: PERCENT }).findings).toEqual([]);
    const foreign = await scenario({ rootCa: { shape: 'spiffe', trustDomains: [{ name: 'other.example', bundlePem: otherRoot.certificatePem }] } });
    expect(classifySecrets(foreign, { now: at(60), thresholds: PERCENT }).findings).toEqual(['bundle-mismatch']);
  });

  it('verifies a leaf + intermediate chain, and flags the leaf alone', async () => {
    const { intermediate } = await testPki();
    const leaf = await leafPem(intermediate);
    const full = await scenario({ chainPem: `${leaf}\n${intermediate.certificatePem}` });
    expect(classifySecrets(full, { now: at(60), thresholds: PERCENT }).findings).toEqual([]);
    const leafOnly = await scenario({ chainPem: leaf });
    expect(classifySecrets(leafOnly, { now: at(60), thresholds: PERCENT }).findings).toEqual(['bundle-mismatch']);
  });

  it('makes no bundle judgement without a ROOTCA secret', async () => {
    const { intermediate } = await testPki();
    const parsed = await scenario({ chainPem: await leafPem(intermediate), rootCa: null });
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT }).findings).toEqual([]);
  });

  it('flags a ROOTCA bundle that holds no readable certificate', async () => {
    const parsed = await scenario({ rootCa: { shape: 'trusted_ca', bundlePem: 'not a certificate' } });
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT });
    expect(verdict).toMatchObject({ state: 'healthy', findings: ['bundle-mismatch'] });
  });

  it.each([
    ['agent-served secrets beside the socket', agentVersionInfo(T0, 2), true, ['workload-certs-volume']],
    ['agent-served secrets, no such volume', agentVersionInfo(T0, 2), false, []],
  ])('%s -> %p', async (_label, versionInfo, besideSocket, findings) => {
    const parsed = await scenario({ versionInfo });
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: { ...POD, workloadCertsBesideSocket: besideSocket } });
    expect(verdict.source).toBe('istio-agent');
    expect(verdict.findings).toEqual(findings);
  });

  it('does not blame the volume when tbot serves the socket', async () => {
    const { root } = await testPki();
    const parsed = await scenario({
      versionInfo: tbotVersionInfo(at(30)),
      rootCa: { shape: 'spiffe', trustDomains: [{ name: 'example.org', bundlePem: root.certificatePem }] },
    });
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: { ...POD, workloadCertsBesideSocket: true } });
    expect(verdict.source).toBe('tbot');
    expect(verdict.findings).toEqual([]);
  });

  it('still reports the volume finding when `default` is missing', async () => {
    const { root } = await testPki();
    const parsed = parseResource([{ name: 'ROOTCA', rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } }]);
    const verdict = classifySecrets(parsed, { now: T0, thresholds: PERCENT, pod: { ...POD, workloadCertsBesideSocket: true } });
    expect(verdict).toMatchObject({ state: 'missing', source: 'istio-agent', findings: ['workload-certs-volume'] });
  });

  it('orders findings as FINDINGS does', async () => {
    const { otherRoot } = await testPki();
    const parsed = await scenario({
      versionInfo: agentVersionInfo(T0, 1),
      rootCa: { shape: 'trusted_ca', bundlePem: otherRoot.certificatePem },
      chainPem: await leafPem((await testPki()).root, { spiffeId: 'spiffe://example.org/ns/shop/sa/orders' }),
    });
    const verdict = classifySecrets(parsed, { now: at(3000), thresholds: PERCENT, pod: { ...POD, workloadCertsBesideSocket: true } });
    expect(verdict.findings).toEqual(['sds-pushes-stopped', 'workload-certs-volume', 'identity-mismatch', 'bundle-mismatch']);
  });
});

describe('classifySecrets: source', () => {
  const spiffe = async (): Promise<RootCaSpec> => ({ shape: 'spiffe', trustDomains: [{ name: 'example.org', bundlePem: (await testPki()).root.certificatePem }] });
  const trustedCa = async (): Promise<RootCaSpec> => ({ shape: 'trusted_ca', bundlePem: (await testPki()).root.certificatePem });

  it.each([
    ['tbot RFC3339Nano + SPIFFE ROOTCA', tbotVersionInfo(T0), 'spiffe', 'tbot'],
    ['tbot RFC3339 without fraction + SPIFFE ROOTCA', '2030-01-01T00:00:00Z', 'spiffe', 'tbot'],
    ['tbot version + trusted_ca ROOTCA', tbotVersionInfo(T0), 'trusted_ca', 'istio-agent'],
    ['tbot version, no ROOTCA', tbotVersionInfo(T0), 'none', 'unknown'],
    ['agent <RFC3339>/<n> + SPIFFE ROOTCA', agentVersionInfo(T0, 7), 'spiffe', 'istio-agent'],
    ['agent version, no ROOTCA', agentVersionInfo(T0, 7), 'none', 'istio-agent'],
    ['no version + trusted_ca', null, 'trusted_ca', 'istio-agent'],
    ['no version + SPIFFE ROOTCA', null, 'spiffe', 'unknown'],
    ['uninitialized + SPIFFE ROOTCA', 'uninitialized', 'spiffe', 'unknown'],
    ['a counter without time + SPIFFE ROOTCA', '42', 'spiffe', 'unknown'],
    ['RFC3339 with a non-numeric suffix + SPIFFE ROOTCA', '2030-01-01T00:00:00Z/x', 'spiffe', 'unknown'],
  ])('%s -> %s', async (_label, versionInfo, shape, source) => {
    const rootCa = shape === 'spiffe' ? await spiffe() : shape === 'trusted_ca' ? await trustedCa() : null;
    const parsed = await scenario({ versionInfo, rootCa });
    expect(classifySecrets(parsed, { now: at(60), thresholds: PERCENT }).source).toBe(source);
  });
});

describe('classifySecrets: secret reports', () => {
  it('lists active then warming secrets with whole-second push ages', async () => {
    const { root } = await testPki();
    const now = at(100);
    const parsed = parseFull({
      active: [
        { name: 'default', versionInfo: agentVersionInfo(T0, 3), lastUpdated: new Date(now.getTime() - 10_900), chainPem: await leafPem(root) },
        { name: 'ROOTCA', lastUpdated: at(5, now), rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } },
      ],
      warming: [{ name: 'file-cert:/etc/certs/x', versionInfo: 'uninitialized' }],
    });
    expect(classifySecrets(parsed, { now, thresholds: PERCENT }).secrets).toEqual([
      { name: 'default', versionInfo: '2030-01-01T00:00:00Z/3', lastUpdated: '2030-01-01T00:01:29.100Z', pushAgeSeconds: 10 },
      // Stamped after `now` (clock skew): counted as just pushed.
      { name: 'ROOTCA', versionInfo: null, lastUpdated: '2030-01-01T00:01:45.000Z', pushAgeSeconds: 0 },
      { name: 'file-cert:/etc/certs/x', versionInfo: 'uninitialized', lastUpdated: null, pushAgeSeconds: null },
    ]);
  });
});

describe('classifySecrets: Istio fixtures', () => {
  const istio = () => parseSecretsDump(readFixture('secret-istio/config_dump.json'));
  const spire = () => parseSecretsDump(readFixture('secret-spire/config_dump.json'));
  const waypoint = { namespace: 'ambient', serviceAccount: 'namespace-istio-waypoint', workloadCertsBesideSocket: false };

  it('Istio CA leaf (24 h) is healthy half a day in, served by the agent', () => {
    const verdict = classifySecrets(istio(), { now: new Date('2023-05-15T12:00:00Z'), thresholds: PERCENT, pod: waypoint });
    expect(verdict).toEqual({
      state: 'healthy',
      findings: [],
      source: 'istio-agent',
      certificate: {
        serialNumber: '6FBEE254C22900615CB1F74E3D2F1713',
        fingerprintSha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
        spiffeId: 'spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint',
        notBefore: '2023-05-15T01:30:52.000Z',
        notAfter: '2023-05-16T01:32:52.000Z',
        ageSeconds: 37748,
        remainingSeconds: 48772,
        lifetimeSeconds: 86520,
      },
      secrets: [
        { name: 'default', versionInfo: null, lastUpdated: '2023-05-15T01:32:52.262Z', pushAgeSeconds: 37627 },
        { name: 'ROOTCA', versionInfo: null, lastUpdated: '2023-05-06T05:41:32.118Z', pushAgeSeconds: 800307 },
        { name: 'configmap://some/thing', versionInfo: 'uninitialized', lastUpdated: '2025-04-11T14:59:35.648Z', pushAgeSeconds: 0 },
      ],
    });
  });

  it('Istio CA leaf is expiring with pushes stopped near its end, then expired', () => {
    const late = classifySecrets(istio(), { now: new Date('2023-05-16T00:00:00Z'), thresholds: PERCENT, pod: waypoint });
    expect(late).toMatchObject({ state: 'expiring', findings: ['sds-pushes-stopped'] });
    const dead = classifySecrets(istio(), { now: new Date('2023-05-16T01:32:52Z'), thresholds: PERCENT, pod: waypoint });
    expect(dead).toMatchObject({ state: 'expired', findings: ['sds-pushes-stopped'] });
  });

  it('Istio CA leaf in the wrong namespace is an identity mismatch', () => {
    const verdict = classifySecrets(istio(), { now: new Date('2023-05-15T12:00:00Z'), thresholds: PERCENT, pod: { ...waypoint, namespace: 'default' } });
    expect(verdict.findings).toEqual(['identity-mismatch']);
  });

  it('SPIRE leaf (1 h) is healthy 15 minutes in, source unknown (no version_info)', () => {
    const verdict = classifySecrets(spire(), { now: new Date('2024-10-27T22:00:00Z'), thresholds: PERCENT });
    expect(verdict).toMatchObject({
      state: 'healthy',
      findings: [],
      source: 'unknown',
      certificate: { serialNumber: 'CD4902E499169B11EC171DAD1668ADBB', ageSeconds: 933, lifetimeSeconds: 3610 },
    });
  });

  it('SPIRE leaf is stale at 45 minutes; its last push predates the leaf, so pushes stopped', () => {
    const verdict = classifySecrets(spire(), {
      now: new Date('2024-10-27T22:30:00Z'),
      thresholds: PERCENT,
      pod: { namespace: 'istio-system', serviceAccount: 'federation-ingress-gateway-service-account', workloadCertsBesideSocket: true },
    });
    expect(verdict).toMatchObject({ state: 'stale', findings: ['sds-pushes-stopped'], source: 'unknown' });
  });
});

describe('private key material never leaks', () => {
  it('through the parse result, the verdict or the rendered tables', async () => {
    const { root } = await testPki();
    const keyPem = await leafPrivateKeyPem();
    const dumpText = JSON.stringify(
      resourceSecretsDump([
        { name: 'default', versionInfo: agentVersionInfo(T0, 1), lastUpdated: T0, chainPem: await leafPem(root), privateKeyPem: keyPem },
        { name: 'ROOTCA', rootCa: { shape: 'trusted_ca', bundlePem: root.certificatePem } },
      ]),
    );
    expect(keyLeaks(dumpText, keyPem)).not.toEqual([]); // the detector sees the key where it is
    const parsed = parseSecretsDump(dumpText);
    const verdict = classifySecrets(parsed, { now: at(60), thresholds: PERCENT, pod: POD });
    expect(verdict.state).toBe('healthy');
    const pod = { ...verdict, namespace: 'shop', name: 'carts-1', uid: 'u', serviceAccount: 'carts', node: 'n', workload: null };
    for (const output of [
      JSON.stringify(parsed),
      JSON.stringify(verdict),
      renderVerdictTable(verdict),
      renderSweepTable({ pods: [pod], summary: summarize([pod], 0) }),
    ]) {
      expect(keyLeaks(output, keyPem)).toEqual([]);
    }
  });

  it('through errors when the key sits where the chain should be, or the dump is cut inside it', async () => {
    const { root } = await testPki();
    const keyPem = await leafPrivateKeyPem();
    const swapped = parseResource([{ name: 'default', chainPem: keyPem, privateKeyPem: keyPem }]);
    const verdict = classifySecrets(swapped, { now: at(60), thresholds: PERCENT });
    expect(verdict.state).toBe('unreachable');
    expect(verdict.error).toBe('"default" certificate chain contains no PEM CERTIFICATE block');
    expect(keyLeaks(JSON.stringify(verdict) + renderVerdictTable(verdict), keyPem)).toEqual([]);

    const dumpText = JSON.stringify(resourceSecretsDump([{ name: 'default', chainPem: await leafPem(root), privateKeyPem: keyPem }]));
    const keyAt = dumpText.indexOf(Buffer.from(keyPem).toString('base64'));
    const corrupted = [
      dumpText.slice(0, keyAt + 80), // cut inside the key
      `${dumpText.slice(0, keyAt - 1)}${dumpText.slice(keyAt)}`, // key unquoted: V8 quotes the text near it
    ];
    for (const text of corrupted) {
      const error = thrown(() => parseSecretsDump(text));
      expect(error).toBeInstanceOf(DumpError);
      const messages = `${error.message} ${String((error.cause as Error).message)}`;
      expect(keyLeaks(messages, keyPem)).toEqual([]);
      expect(sharesRun(messages, Buffer.from(keyPem).toString('base64'))).toBe(false);
    }
  });
});

describe('podWorkloadCertsBesideSocket', () => {
  const certs = { name: 'workload-certs', emptyDir: {} };
  it.each([
    ['Istio default injection (socket is an emptyDir)', [{ name: 'workload-socket', emptyDir: {} }, certs], false],
    ['Istio spire template (socket via the SPIFFE CSI driver)', [{ name: 'workload-socket', csi: { driver: 'csi.spiffe.io' } }, certs], true],
    ['SPIFFE CSI volume under another name', [{ name: 'spiffe', csi: { driver: 'csi.spiffe.io' } }, certs], true],
    ['workload-socket that is not an emptyDir', [{ name: 'workload-socket', csi: {} }, certs], true],
    ['socket without workload-certs', [{ name: 'workload-socket', csi: { driver: 'csi.spiffe.io' } }], false],
    ['workload-certs that is not an emptyDir', [{ name: 'workload-socket', csi: { driver: 'csi.spiffe.io' } }, { name: 'workload-certs' }], false],
    ['another CSI driver', [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io' } }, certs], false],
    ['no volumes', [], false],
  ])('%s -> %p', (_label, volumes, expected) => {
    expect(podWorkloadCertsBesideSocket({ volumes })).toBe(expected);
  });

  it('accepts a spec without volumes', () => {
    expect(podWorkloadCertsBesideSocket({})).toBe(false);
    expect(podWorkloadCertsBesideSocket(undefined)).toBe(false);
  });
});
