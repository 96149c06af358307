/**
 * Rotation history (docs/contract.md §8): the expected renewal point per source, detection at
 * the first missed renewal, the push proven across two sweeps, rotation counting, the snapshot.
 */
import { describe, expect, it } from '@jest/globals';
import { classifySecrets } from '../../src/core/judgement/classify.js';
import type { ParsedSecrets } from '../../src/core/judgement/envoy-secrets.js';
import {
  colonSerial,
  DEFAULT_RENEWAL_POLICY,
  HistoryFormatError,
  indexSnapshot,
  nextSnapshot,
  observationOf,
  parseHistorySnapshot,
  parseSnapshotLines,
  previousOf,
  snapshotLines,
  summarizeRotations,
  type PreviousObservation,
} from '../../src/core/judgement/history.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { CertificateVerdict, PodReport } from '../../src/core/model/types.js';
import { agentVersionInfo, tbotVersionInfo, type RootCaSpec } from '../../src/sandbox/emulator/envoy-dump.js';
import { issueLeaf } from '../../src/sandbox/emulator/pki.js';
import { at, HOUR, parseResource, T0, testPki } from './core-test-kit.js';

const POD = { namespace: 'shop', serviceAccount: 'carts', workloadCertsBesideSocket: false };
const MINUTE = 60;

interface Leaf {
  readonly pem: string;
  readonly serialNumber: string;
}

async function leaf(notBefore: Date, lifetimeSeconds = HOUR, serialNumber?: string): Promise<Leaf> {
  const { intermediate } = await testPki();
  const issued = await issueLeaf(intermediate, {
    notBefore,
    notAfter: at(lifetimeSeconds, notBefore),
    spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
    ...(serialNumber ? { serialNumber } : {}),
  });
  return { pem: issued.certificatePem, serialNumber: issued.serialNumber };
}

/** What tbot (SPIFFE validator ROOTCA, RFC3339Nano version) or the Istio agent serves. */
async function served(source: 'tbot' | 'istio-agent', chain: Leaf, pushedAt: Date, options: { lastUpdated?: boolean } = {}): Promise<ParsedSecrets> {
  const { root, intermediate } = await testPki();
  const versionInfo = source === 'tbot' ? tbotVersionInfo(pushedAt) : agentVersionInfo(pushedAt, 3);
  const rootCa: RootCaSpec =
    source === 'tbot'
      ? { shape: 'spiffe', trustDomains: [{ name: 'example.org', bundlePem: root.certificatePem }] }
      : { shape: 'trusted_ca', bundlePem: root.certificatePem };
  return parseResource([
    { name: 'default', versionInfo, lastUpdated: options.lastUpdated === false ? null : pushedAt, chainPem: chain.pem + intermediate.certificatePem },
    { name: 'ROOTCA', versionInfo, lastUpdated: pushedAt, rootCa },
  ]);
}

function judge(secrets: ParsedSecrets, now: Date, previous: PreviousObservation | null): CertificateVerdict {
  return classifySecrets(secrets, { now, thresholds: DEFAULT_THRESHOLDS, pod: POD, history: { previous, renewal: DEFAULT_RENEWAL_POLICY } });
}

function asPod(verdict: CertificateVerdict, uid = 'uid-1'): PodReport {
  return { namespace: 'shop', name: 'carts-1', uid, serviceAccount: 'carts', node: 'node-a', workload: null, ...verdict };
}

/** The previous observation a sweep at `observedAt` would have recorded for `verdict`. */
function previousFrom(verdict: CertificateVerdict, observedAt: Date): PreviousObservation {
  return previousOf(observationOf(asPod(verdict), observedAt.toISOString())!);
}

describe('expected renewal point', () => {
  it('tbot: notBefore + renewal_interval (20 min by default)', async () => {
    const verdict = judge(await served('tbot', await leaf(T0), T0), at(5 * MINUTE), null);
    expect(verdict.rotation).toEqual({ expectedRenewalAt: at(20 * MINUTE).toISOString(), overdueSeconds: 0, provenAcrossSweeps: false });
    expect(verdict.previous).toBeUndefined();
    expect(verdict.rotatedSinceLastSweep).toBeUndefined();
  });

  it('Istio agent: notBefore + (1 − 0.5 + 0.01) × lifetime (the latest jittered rotation)', async () => {
    const verdict = judge(await served('istio-agent', await leaf(T0), T0), at(5 * MINUTE), null);
    expect(verdict.rotation?.expectedRenewalAt).toBe(at(0.51 * HOUR).toISOString());
  });

  it('a configured renewal interval and slack move the point', async () => {
    const secrets = await served('tbot', await leaf(T0), T0);
    const renewal = { ...DEFAULT_RENEWAL_POLICY, tbotRenewalIntervalSeconds: 30 * MINUTE, slackSeconds: 60 };
    const early = classifySecrets(secrets, { now: at(30 * MINUTE + 59), thresholds: DEFAULT_THRESHOLDS, pod: POD, history: { previous: null, renewal } });
    const late = classifySecrets(secrets, { now: at(31 * MINUTE), thresholds: DEFAULT_THRESHOLDS, pod: POD, history: { previous: null, renewal } });
    expect(early.state).toBe('healthy');
    expect(late.state).toBe('stale');
    expect(late.rotation?.overdueSeconds).toBe(60);
  });

  it('is never later than notAfter, and null for an unknown source', async () => {
    const short = await served('tbot', await leaf(T0, 10 * MINUTE), T0);
    expect(judge(short, at(MINUTE), null).rotation?.expectedRenewalAt).toBe(at(10 * MINUTE).toISOString());
    const { intermediate } = await testPki();
    const unknown = parseResource([{ name: 'default', versionInfo: null, lastUpdated: null, chainPem: (await leaf(T0)).pem + intermediate.certificatePem }]);
    const verdict = judge(unknown, at(30 * MINUTE), null);
    expect(verdict.source).toBe('unknown');
    expect(verdict.rotation).toEqual({ expectedRenewalAt: null, overdueSeconds: 0, provenAcrossSweeps: false });
    expect(verdict.state).toBe('healthy');
  });
});

describe('detection at the first missed renewal', () => {
  it('tbot stopped pushing: stale with sds-pushes-stopped once past 20 min + 3 min slack, not before', async () => {
    const current = await leaf(T0);
    const secrets = await served('tbot', current, T0);
    const first = judge(secrets, at(20 * MINUTE), null);
    const before = judge(secrets, at(23 * MINUTE - 1), previousFrom(first, at(20 * MINUTE)));
    const after = judge(secrets, at(23 * MINUTE), previousFrom(first, at(20 * MINUTE)));
    expect(before.state).toBe('healthy');
    expect(before.rotatedSinceLastSweep).toBe(false);
    expect(after.state).toBe('stale');
    expect(after.findings).toEqual(['sds-pushes-stopped']);
    expect(after.rotation).toEqual({ expectedRenewalAt: at(20 * MINUTE).toISOString(), overdueSeconds: 3 * MINUTE, provenAcrossSweeps: false });
    // Without history the same leaf stays healthy until 60 % of its life.
    const plain = classifySecrets(secrets, { now: at(23 * MINUTE), thresholds: DEFAULT_THRESHOLDS, pod: POD });
    expect(plain.state).toBe('healthy');
    expect(plain.rotation).toBeUndefined();
  });

  it('tbot re-sends the cached SVID at the renewal point: proven across sweeps even without last_updated', async () => {
    const current = await leaf(T0);
    const firstSweep = judge(await served('tbot', current, T0, { lastUpdated: false }), at(18 * MINUTE), null);
    expect(firstSweep.state).toBe('healthy');
    // tbot's renewal timer fires at 20 min and pushes the same leaf: only version_info moves.
    const resent = await served('tbot', current, at(20 * MINUTE + 2), { lastUpdated: false });
    const second = judge(resent, at(21 * MINUTE), previousFrom(firstSweep, at(18 * MINUTE)));
    expect(second.state).toBe('stale');
    expect(second.findings).toEqual(['sds-push-without-rotation']);
    expect(second.rotation).toEqual({ expectedRenewalAt: at(20 * MINUTE).toISOString(), overdueSeconds: MINUTE, provenAcrossSweeps: true });
    expect(second.previous?.versionInfo).toBe(tbotVersionInfo(T0));
  });

  it('a push before the renewal point with the same leaf proves nothing', async () => {
    const current = await leaf(T0);
    const first = judge(await served('tbot', current, T0), at(5 * MINUTE), null);
    const second = judge(await served('tbot', current, at(8 * MINUTE)), at(10 * MINUTE), previousFrom(first, at(5 * MINUTE)));
    expect(second.state).toBe('healthy');
    expect(second.rotation?.provenAcrossSweeps).toBe(false);
  });

  it('one sample with a push after the renewal point holding the old leaf says sds-push-without-rotation, not proven', async () => {
    const verdict = judge(await served('tbot', await leaf(T0), at(20 * MINUTE)), at(24 * MINUTE), null);
    expect(verdict.state).toBe('stale');
    expect(verdict.findings).toEqual(['sds-push-without-rotation']);
    expect(verdict.rotation?.provenAcrossSweeps).toBe(false);
  });

  it('a rotated leaf is healthy and reported as rotated', async () => {
    const first = judge(await served('tbot', await leaf(T0), T0), at(18 * MINUTE), null);
    const next = await leaf(at(20 * MINUTE));
    const second = judge(await served('tbot', next, at(20 * MINUTE)), at(23 * MINUTE), previousFrom(first, at(18 * MINUTE)));
    expect(second.state).toBe('healthy');
    expect(second.rotatedSinceLastSweep).toBe(true);
    expect(second.previous?.notBefore).toBe(T0.toISOString());
  });

  it('expiring and expired still win over stale', async () => {
    const secrets = await served('tbot', await leaf(T0), T0);
    expect(judge(secrets, at(50 * MINUTE), null).state).toBe('expiring');
    expect(judge(secrets, at(HOUR), null).state).toBe('expired');
    expect(judge(secrets, at(50 * MINUTE), null).findings).toEqual(['sds-pushes-stopped']);
  });

  it('zero false positives: healthy tbot and Istio agent pods rotating with jitter, swept every 5 minutes', async () => {
    // Each pod: a new leaf every 20 min + up to 90 s of issuance latency (tbot), or at 49-51 %
    // of its life (agent); swept every 5 min from a random phase for 3 hours.
    let random = 42;
    const next = (): number => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return random / 2 ** 31;
    };
    const flagged: string[] = [];
    for (const source of ['tbot', 'istio-agent'] as const) {
      for (let podIndex = 0; podIndex < 6; podIndex++) {
        let issuedAt = at(-Math.floor(next() * 20 * MINUTE));
        let current = await leaf(issuedAt);
        let previous: PreviousObservation | null = null;
        const renewAfter = (): number => (source === 'tbot' ? 20 * MINUTE + next() * 90 : HOUR * (0.49 + next() * 0.02));
        let renewAt = issuedAt.getTime() + renewAfter() * 1000;
        for (let sweep = 0; sweep < 36; sweep++) {
          const now = at(sweep * 5 * MINUTE + 17);
          while (renewAt <= now.getTime()) {
            issuedAt = new Date(renewAt);
            current = await leaf(issuedAt);
            renewAt = issuedAt.getTime() + renewAfter() * 1000;
          }
          const verdict = judge(await served(source, current, issuedAt), now, previous);
          if (verdict.state !== 'healthy' || verdict.findings.length > 0) flagged.push(`${source}#${podIndex}@${sweep}: ${verdict.state}`);
          previous = previousFrom(verdict, now);
        }
      }
    }
    expect(flagged).toEqual([]);
  });
});

describe('rotation summary and snapshot', () => {
  it('counts rotations, compared pods, overdue pods and the interval per source', async () => {
    const a0 = judge(await served('tbot', await leaf(T0), T0), at(10 * MINUTE), null);
    const a1 = judge(await served('tbot', await leaf(at(20 * MINUTE)), at(20 * MINUTE)), at(21 * MINUTE), previousFrom(a0, at(10 * MINUTE)));
    const b0 = judge(await served('tbot', await leaf(at(-MINUTE)), at(-MINUTE)), at(10 * MINUTE), null);
    const b1 = judge(await served('tbot', await leaf(at(21 * MINUTE)), at(21 * MINUTE)), at(21 * MINUTE + 30), previousFrom(b0, at(10 * MINUTE)));
    const stuckLeaf = await leaf(T0);
    const c0 = judge(await served('istio-agent', stuckLeaf, T0), at(10 * MINUTE), null);
    const c1 = judge(await served('istio-agent', stuckLeaf, T0), at(40 * MINUTE), previousFrom(c0, at(10 * MINUTE)));
    const fresh = judge(await served('tbot', await leaf(at(20 * MINUTE)), at(20 * MINUTE)), at(21 * MINUTE), null);
    const summary = summarizeRotations([asPod(a1, 'a'), asPod(b1, 'b'), asPod(c1, 'c'), asPod(fresh, 'd')]);
    expect(summary).toEqual({
      observed: 2,
      compared: 3,
      overdue: 1,
      provenAcrossSweeps: 0,
      bySource: {
        tbot: { observed: 2, compared: 2, overdue: 0, intervalSecondsP50: 21 * MINUTE, intervalSecondsMax: 22 * MINUTE },
        'istio-agent': { observed: 0, compared: 1, overdue: 1, intervalSecondsP50: null, intervalSecondsMax: null },
      },
    });
  });

  it('keeps one entry per pod: current leaves, earlier ones of pods not read this time; drops pods gone', async () => {
    const healthy = asPod(judge(await served('tbot', await leaf(T0), T0), at(MINUTE), null), 'uid-a');
    const unreachable: PodReport = { ...asPod({ state: 'unreachable', findings: [], source: 'unknown', certificate: null, secrets: [], error: 'exec failed' }, 'uid-b') };
    const earlierB = { ...observationOf(healthy, T0.toISOString())!, uid: 'uid-b' };
    const earlierGone = { ...observationOf(healthy, T0.toISOString())!, uid: 'uid-gone' };
    const previous = indexSnapshot({ format: 'mesh-cert-watch/rotation-history', version: 1, cluster: 'c', sweepId: 's0', observedAt: T0.toISOString(), pods: [earlierB, earlierGone] });
    const complete = nextSnapshot({ cluster: 'c', sweepId: 's1', now: at(MINUTE).toISOString(), partial: false, pods: [healthy, unreachable], previous });
    expect(complete.pods.map((p) => p.uid)).toEqual(['uid-a', 'uid-b']);
    expect(complete.pods[0]!.observedAt).toBe(at(MINUTE).toISOString());
    expect(complete.pods[1]).toEqual(earlierB);
    const partial = nextSnapshot({ cluster: 'c', sweepId: 's1', now: at(MINUTE).toISOString(), partial: true, pods: [healthy], previous });
    expect(partial.pods.map((p) => p.uid)).toEqual(['uid-a', 'uid-b', 'uid-gone']);
    const later = nextSnapshot({ cluster: 'c', sweepId: 's2', now: at(2 * HOUR).toISOString(), partial: true, pods: [], previous });
    expect(later.pods).toEqual([]);
  });

  it('round-trips through JSON and refuses a malformed document, naming the field', async () => {
    const healthy = asPod(judge(await served('tbot', await leaf(T0), T0), at(MINUTE), null), 'uid-a');
    const snapshot = nextSnapshot({ cluster: 'c', sweepId: 's1', now: at(MINUTE).toISOString(), partial: false, pods: [healthy], previous: new Map() });
    expect(parseHistorySnapshot(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
    const bad = JSON.parse(JSON.stringify(snapshot)) as { pods: Record<string, unknown>[] };
    bad.pods[0]!.notBefore = 'yesterday';
    expect(() => parseHistorySnapshot(bad)).toThrow(new HistoryFormatError('pods[0].notBefore is not a date-time'));
    expect(() => parseHistorySnapshot({ ...snapshot, version: 2 })).toThrow(/"version" 2 is not supported/);
    expect(() => parseHistorySnapshot([])).toThrow(HistoryFormatError);
  });

  it('prints serials the way tbot logs them', () => {
    expect(colonSerial('4529A5FF01')).toBe('45:29:a5:ff:01');
    expect(colonSerial('00C3B1')).toBe('c3:b1');
    expect(colonSerial('0071')).toBe('00:71');
    expect(colonSerial('ABC')).toBe('0a:bc');
  });
});

describe('snapshot line layout', () => {
  const observation = {
    uid: 'uid-a',
    namespace: 'shop',
    name: 'carts-1',
    source: 'tbot' as const,
    serialNumber: '0A',
    fingerprintSha256: 'AA:BB',
    notBefore: '2030-01-01T00:00:00.000Z',
    notAfter: '2030-01-01T01:00:00.000Z',
    versionInfo: null,
    lastUpdated: null,
    observedAt: '2030-01-01T00:05:00.000Z',
  };
  const snapshot = { format: 'mesh-cert-watch/rotation-history' as const, version: 1 as const, cluster: 'c', sweepId: 's', observedAt: '2030-01-01T00:05:00.000Z', pods: [observation, { ...observation, uid: 'uid-b' }] };
  async function* from(lines: readonly string[]): AsyncGenerator<string> {
    yield* lines;
  }

  it('is one JSON document with one pod per line, read back a line at a time', async () => {
    const lines = [...snapshotLines(snapshot)];
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines.join('\n'))).toEqual(snapshot);
    expect(await parseSnapshotLines(from(lines))).toEqual(snapshot);
    expect(await parseSnapshotLines(from([...snapshotLines({ ...snapshot, pods: [] })]))).toEqual({ ...snapshot, pods: [] });
  });

  it('reads any other layout of the same document whole, and refuses truncated or invalid lines', async () => {
    expect(await parseSnapshotLines(from([JSON.stringify(snapshot)]))).toEqual(snapshot);
    const lines = [...snapshotLines(snapshot)];
    await expect(parseSnapshotLines(from(lines.slice(0, 2)))).rejects.toThrow('the document ends without "]}" (truncated?)');
    await expect(parseSnapshotLines(from([lines[0]!, '{"uid":', ']}']))).rejects.toThrow(/^line 2 is not JSON/);
    await expect(parseSnapshotLines(from([lines[0]!, JSON.stringify({ ...observation, notAfter: 'later' }), ']}']))).rejects.toThrow('pods[0].notAfter is not a date-time');
  });
});
