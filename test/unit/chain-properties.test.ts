/**
 * Property-style check of whole-chain judgement over generated PKIs (seeded, reproducible): for
 * random chains (root → 0-2 intermediates → leaf, each CA valid, expired or not yet valid, chain
 * order shuffled, links dropped, the root sometimes in the chain), random bundles (trusted_ca or
 * SPIFFE domains, right or wrong root, right or wrong domain), random instants and allowances,
 * the verdict must equal an independent model of what a peer's TLS stack would do.
 */
import { describe, expect, it } from '@jest/globals';
import { classifySecrets } from '../../src/core/judgement/classify.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { Finding } from '../../src/core/model/types.js';
import type { RootCaSpec } from '../../src/sandbox/emulator/envoy-dump.js';
import { createIntermediateCa, createRootCa, issueLeaf, type CertificateAuthority } from '../../src/sandbox/emulator/pki.js';
import { at, HOUR, parseResource, T0 } from './core-test-kit.js';
import { seededRandom } from '../../src/sandbox/simulation/random.js';

const DAY = 24 * HOUR;
type Validity = 'valid' | 'expired' | 'future';
const VALIDITIES: readonly Validity[] = ['valid', 'expired', 'future'];
/** CA windows relative to T0; "future" starts one day after T0, "expired" ended one day before. */
const WINDOWS: Record<Validity, [number, number]> = { valid: [-DAY, 30 * DAY], expired: [-30 * DAY, -DAY], future: [DAY, 30 * DAY] };

const windowOf = (validity: Validity) => ({ notBefore: at(WINDOWS[validity][0]), notAfter: at(WINDOWS[validity][1]) });

/** CAs are costly to make: one per (validity path), shared by every scenario that needs it. */
const cas = new Map<string, Promise<CertificateAuthority>>();
function ca(path: readonly Validity[]): Promise<CertificateAuthority> {
  const key = path.join('/');
  let made = cas.get(key);
  if (!made) {
    made =
      path.length === 1
        ? createRootCa('example.org', windowOf(path[0]!))
        : ca(path.slice(0, -1)).then((parent) => createIntermediateCa(parent, `intermediate ${key}`, { validity: windowOf(path.at(-1)!) }));
    cas.set(key, made);
  }
  return made;
}

const pick = <T,>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('whole-chain judgement agrees with a model of the peer, over 150 generated chains', () => {
  it('seed 11', async () => {
    const random = seededRandom(11);
    const strangerRoot = await createRootCa('other.example');
    let mismatches = 0;
    let clean = 0;
    for (let round = 0; round < 150; round += 1) {
      // The PKI: a root and 0-2 intermediates, each valid, expired or future (valid mostly).
      const depth = Math.floor(random() * 3);
      const path: Validity[] = [];
      for (let level = 0; level <= depth; level += 1) path.push(random() < 0.6 ? 'valid' : pick(random, VALIDITIES));
      const chainCas = await Promise.all(path.map((_, index) => ca(path.slice(0, index + 1))));
      const [root, ...intermediates] = chainCas as [CertificateAuthority, ...CertificateAuthority[]];
      const issuer = chainCas.at(-1)!;

      // The leaf: its trust domain, or none; its notBefore relative to T0.
      const domain = pick(random, ['example.org', 'example.org', 'other.example', null] as const);
      const leafStart = pick(random, [0, -600, 120, 3 * 60 * 60]);
      const leaf = await issueLeaf(issuer, {
        notBefore: at(leafStart),
        notAfter: at(leafStart + HOUR),
        ...(domain === null ? {} : { spiffeId: `spiffe://${domain}/ns/shop/sa/carts` }),
      });

      // What Envoy was sent: intermediates shuffled, maybe one dropped, maybe the root appended.
      const dropped = intermediates.length > 0 && random() < 0.15 ? Math.floor(random() * intermediates.length) : -1;
      const sent = shuffle(random, intermediates.filter((_, index) => index !== dropped));
      const rootInChain = random() < 0.2;
      const chainPem = [leaf.certificatePem, ...sent.map((c) => c.certificatePem), ...(rootInChain ? [root.certificatePem] : [])].join('');

      // The bundle: the right root or a stranger; trusted_ca pooled, or SPIFFE domains.
      const rightRootInBundle = random() < 0.85;
      const shape = random() < 0.5 ? 'trusted_ca' : 'spiffe';
      const bundleDomain = pick(random, ['example.org', 'example.org', 'other.example']);
      const bundleRoots = [rightRootInBundle ? root : strangerRoot];
      let rootCa: RootCaSpec;
      if (shape === 'trusted_ca') {
        rootCa = { shape, bundlePem: bundleRoots.map((r) => r.certificatePem).join('') };
      } else {
        rootCa = { shape, trustDomains: [{ name: bundleDomain, bundlePem: bundleRoots.map((r) => r.certificatePem).join('') }] };
      }

      const now = at(pick(random, [60, 600, -90, 1800]));
      const allowance = pick(random, [0, 60, 300]);
      const verdict = classifySecrets(parseResource([{ name: 'default', chainPem }, { name: 'ROOTCA', rootCa }]), {
        now,
        thresholds: { ...DEFAULT_THRESHOLDS, clockSkewAllowanceSeconds: allowance },
      });

      // The model.
      const nowS = (now.getTime() - T0.getTime()) / 1000;
      const caValidNow = (validity: Validity): boolean => nowS < WINDOWS[validity][1] && nowS >= WINDOWS[validity][0] - allowance;
      const linked = dropped < 0; // every intermediate present (order does not matter)
      const anchored = rightRootInBundle && (shape === 'trusted_ca' || (domain !== null && domain === bundleDomain));
      // A root sent in the chain does not help unless the bundle trusts it; an untrusted chain
      // with an in-bundle root is the same as anchored.
      const datesOk = path.every(caValidNow);
      const bundleMismatch = !(linked && anchored && datesOk);
      const leafFuture = nowS < leafStart - allowance;
      const leafExpired = nowS >= leafStart + HOUR;
      const expected: Finding[] = [];
      const leafAge = Math.max(0, nowS - leafStart);
      if (!leafFuture && leafAge >= 0.6 * HOUR) expected.push('sds-pushes-stopped');
      if (domain === null) expected.push('identity-mismatch');
      if (bundleMismatch) expected.push('bundle-mismatch');
      if (leafFuture) expected.push('not-yet-valid');
      const expectedState = leafExpired || leafFuture ? 'expired' : HOUR - leafAge < 0.2 * HOUR ? 'expiring' : leafAge >= 0.6 * HOUR ? 'stale' : 'healthy';

      const scenario = { round, path, dropped, rootInChain, rightRootInBundle, shape, bundleDomain, domain, leafStart, nowS, allowance };
      expect({ scenario, state: verdict.state, findings: verdict.findings }).toEqual({ scenario, state: expectedState, findings: expected });
      if (bundleMismatch) mismatches += 1;
      else clean += 1;
    }
    // The generator must exercise both outcomes, or the property proves little.
    expect(mismatches).toBeGreaterThan(30);
    expect(clean).toBeGreaterThan(30);
  }, 120_000);
});
