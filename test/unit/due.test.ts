/**
 * Due-based sampling rules (src/core/judgement/due.ts, docs/contract.md §8.1): when a pod is due,
 * and how a pod that is not due is judged from its last observation, time-based states included.
 */
import { describe, expect, it } from '@jest/globals';
import { dueReason, judgeFromObservation, spreadSlotMs, uidPhase, verdictChangesAtMs, DEFAULT_MAX_OBSERVATION_AGE_SECONDS } from '../../src/core/judgement/due.js';
import { DEFAULT_RENEWAL_POLICY, nextSnapshot, parseHistorySnapshot, type PodObservation } from '../../src/core/judgement/history.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import type { PodReport } from '../../src/core/model/types.js';

const MINUTE = 60_000;
const ISSUED = Date.parse('2026-12-01T10:00:00.000Z');
const at = (minutes: number): number => ISSUED + minutes * MINUTE;
const iso = (ms: number): string => new Date(ms).toISOString();

function observation(extra: Partial<PodObservation> = {}): PodObservation {
  return {
    uid: 'uid-1',
    namespace: 'shop',
    name: 'orders-1',
    source: 'tbot',
    serialNumber: 'AA01',
    fingerprintSha256: 'FP:01',
    notBefore: iso(at(0)),
    notAfter: iso(at(60)),
    versionInfo: iso(at(0)),
    lastUpdated: iso(at(0)),
    observedAt: iso(at(1)),
    spiffeId: 'spiffe://example.org/ns/shop/sa/orders',
    state: 'healthy',
    findings: [],
    ...extra,
  };
}

const policy = { maxObservationAgeSeconds: DEFAULT_MAX_OBSERVATION_AGE_SECONDS };
const due = (o: PodObservation | undefined, nowMinutes: number, maxAgeMinutes = 20) =>
  dueReason(o, { nowMs: at(nowMinutes), thresholds: DEFAULT_THRESHOLDS, renewal: DEFAULT_RENEWAL_POLICY, policy: { maxObservationAgeSeconds: maxAgeMinutes * 60 } });

describe('dueReason', () => {
  it('samples a pod without a usable observation, one from a snapshot without state, and one observed after now', () => {
    expect(due(undefined, 5)).toBe('new');
    const { state: _state, ...withoutState } = observation();
    expect(due(withoutState, 5)).toBe('new');
    expect(due(observation({ observedAt: iso(at(10)) }), 5)).toBe('clock');
  });

  it('samples a pod that was not healthy, or had a finding the sweep cannot re-judge without sampling', () => {
    expect(due(observation({ state: 'stale' }), 5)).toBe('not-healthy');
    expect(due(observation({ findings: ['bundle-mismatch'] }), 5)).toBe('not-healthy');
    // Re-judged every sweep from the agents list and the pod spec: not a reason to exec.
    expect(due(observation({ findings: ['tbot-outdated', 'workload-certs-volume'] }), 5)).toBeNull();
  });

  it('skips a healthy tbot leaf until its renewal point (notBefore + 20 min), then samples it', () => {
    expect(verdictChangesAtMs(observation(), DEFAULT_THRESHOLDS, DEFAULT_RENEWAL_POLICY)).toBe(at(20));
    expect(due(observation(), 19.99)).toBeNull();
    expect(due(observation(), 20)).toBe('verdict-may-change');
    expect(due(observation(), 25)).toBe('verdict-may-change');
  });

  it('samples a long-lived leaf (Istio agent: renewal at 51 % of a 24 h leaf) at its own slot, never later than the max age', () => {
    const agent = observation({ source: 'istio-agent', notAfter: iso(at(24 * 60)) });
    expect(verdictChangesAtMs(agent, DEFAULT_THRESHOLDS, DEFAULT_RENEWAL_POLICY)).toBe(at(0.51 * 24 * 60));
    const observed = at(1);
    const slot = spreadSlotMs(observed, 20 * MINUTE, uidPhase(agent.uid));
    expect(slot).toBeGreaterThan(observed);
    expect(slot).toBeLessThanOrEqual(observed + 20 * MINUTE);
    expect(due(agent, (slot - 1 - ISSUED) / MINUTE)).toBeNull();
    expect(due(agent, (slot - ISSUED) / MINUTE)).toBe('max-age');
    expect(due(agent, 21)).toBe('max-age');
  });

  it('spreads pods observed at the same instant over the max age, each then sampled exactly one max age apart', () => {
    const maxAgeMs = 20 * MINUTE;
    const slots = Array.from({ length: 4000 }, (_, i) => spreadSlotMs(at(0), maxAgeMs, uidPhase(`0b7c4e1a-${i}-uid`)));
    // Over four 5-minute sweeps: each gets about a quarter.
    const perSweep = [0, 1, 2, 3].map((k) => slots.filter((slot) => slot > at(k * 5) && slot <= at(k * 5 + 5)).length);
    for (const count of perSweep) expect(count).toBeGreaterThan(800);
    expect(perSweep.reduce((a, b) => a + b, 0)).toBe(4000);
    // Sampled at its slot (or a sweep up to 5 min after it): the next slot is one max age later.
    const phase = uidPhase('pod-x');
    const first = spreadSlotMs(at(0), maxAgeMs, phase);
    expect(spreadSlotMs(first, maxAgeMs, phase)).toBe(first + maxAgeMs);
    expect(spreadSlotMs(first + 4 * MINUTE, maxAgeMs, phase)).toBe(first + maxAgeMs);
  });

  it('keeps a tbot pod off the slot grid: its renewal point within the max age brings it due anyway', () => {
    const tbot = observation({ observedAt: iso(at(1)) });
    for (let minute = 1; minute < 20; minute += 0.5) expect(due(tbot, minute)).toBeNull();
  });

  it('uses the thresholds for a source without a renewal point: staleAfter, then expiringWithin, then notAfter', () => {
    const unknown = observation({ source: 'unknown' });
    // 60 % of 60 min.
    expect(verdictChangesAtMs(unknown, DEFAULT_THRESHOLDS, DEFAULT_RENEWAL_POLICY)).toBe(at(36));
    const longStale = { ...DEFAULT_THRESHOLDS, staleAfter: { kind: 'percent' as const, percent: 95, text: '95%' } };
    // expiringWithin 20 % before notAfter: minute 48.
    expect(verdictChangesAtMs(unknown, longStale, DEFAULT_RENEWAL_POLICY)).toBe(at(48));
    expect(due(unknown, 30, 60)).toBeNull(); // its verdict may change (minute 36) within the max age: no slot, the verdict rule brings it due
    expect(due(unknown, 36, 60)).toBe('verdict-may-change');
  });

  it('never skips a pod at an instant where its unchanged leaf would be judged other than healthy (checked minute by minute)', () => {
    for (const source of ['tbot', 'istio-agent', 'unknown'] as const) {
      const o = observation({ source });
      for (let minute = 1; minute <= 70; minute += 0.25) {
        if (due(o, minute, 1e6) !== null) continue;
        const verdict = judgeFromObservation(o, { nowMs: at(minute), thresholds: DEFAULT_THRESHOLDS, renewal: DEFAULT_RENEWAL_POLICY, workloadCertsBesideSocket: false });
        expect({ source, minute, state: verdict.state, findings: verdict.findings }).toEqual({ source, minute, state: 'healthy', findings: [] });
      }
    }
  });
});

describe('judgeFromObservation', () => {
  const judge = (o: PodObservation, nowMinutes: number, workloadCertsBesideSocket = false) =>
    judgeFromObservation(o, { nowMs: at(nowMinutes), thresholds: DEFAULT_THRESHOLDS, renewal: DEFAULT_RENEWAL_POLICY, workloadCertsBesideSocket });

  it('recomputes the certificate figures and the push age against now', () => {
    const verdict = judge(observation(), 10);
    expect(verdict).toMatchObject({ state: 'healthy', findings: [], source: 'tbot' });
    expect(verdict.certificate).toEqual({
      serialNumber: 'AA01',
      fingerprintSha256: 'FP:01',
      spiffeId: 'spiffe://example.org/ns/shop/sa/orders',
      notBefore: iso(at(0)),
      notAfter: iso(at(60)),
      ageSeconds: 600,
      remainingSeconds: 3000,
      lifetimeSeconds: 3600,
    });
    expect(verdict.secrets).toEqual([{ name: 'default', versionInfo: iso(at(0)), lastUpdated: iso(at(0)), pushAgeSeconds: 600 }]);
    expect(verdict.rotation).toEqual({ expectedRenewalAt: iso(at(20)), overdueSeconds: 0, provenAcrossSweeps: false });
    expect(verdict.previous).toBeUndefined();
  });

  it('computes the time-based states exactly as a sampled leaf: stale (overdue), expiring, expired', () => {
    expect(judge(observation(), 23)).toMatchObject({ state: 'stale', findings: ['sds-pushes-stopped'], rotation: { overdueSeconds: 180 } });
    expect(judge(observation(), 49)).toMatchObject({ state: 'expiring' });
    expect(judge(observation(), 60)).toMatchObject({ state: 'expired' });
    expect(judge(observation(), 61).certificate?.remainingSeconds).toBe(-60);
    // Not yet valid (notBefore beyond the 1 min clock-skew allowance) is expired too.
    expect(judge(observation({ notBefore: iso(at(10)), notAfter: iso(at(70)) }), 5)).toMatchObject({ state: 'expired', findings: ['not-yet-valid'] });
  });

  it('carries over findings of the leaf, re-judges workload-certs-volume, never carries a time finding', () => {
    const agent = observation({ source: 'istio-agent', findings: ['identity-mismatch', 'sds-pushes-stopped', 'workload-certs-volume'] });
    expect(judge(agent, 5).findings).toEqual(['identity-mismatch']);
    expect(judge(agent, 5, true).findings).toEqual(['workload-certs-volume', 'identity-mismatch']);
  });
});

describe('the snapshot with due-based sampling', () => {
  const pod = (uid: string, extra: Partial<PodReport> = {}): PodReport => ({
    namespace: 'shop',
    name: uid,
    uid,
    serviceAccount: 'orders',
    node: 'node-1',
    workload: null,
    state: 'healthy',
    findings: [],
    source: 'tbot',
    certificate: {
      serialNumber: `S-${uid}`,
      fingerprintSha256: `F-${uid}`,
      spiffeId: 'spiffe://example.org/ns/shop/sa/orders',
      notBefore: iso(at(0)),
      notAfter: iso(at(60)),
      ageSeconds: 0,
      remainingSeconds: 3600,
      lifetimeSeconds: 3600,
    },
    secrets: [{ name: 'default', versionInfo: iso(at(0)), lastUpdated: iso(at(0)), pushAgeSeconds: 0 }],
    ...extra,
  });

  it('keeps the observation a pod not sampled was judged from (its own time), and records state and findings of the sampled ones', () => {
    const earlier = observation({ uid: 'b', observedAt: iso(at(1)) });
    const snapshot = nextSnapshot({
      cluster: 'prod',
      sweepId: 's2',
      now: iso(at(6)),
      partial: false,
      pods: [pod('a', { findings: ['identity-mismatch'] }), pod('b', { sampled: false, sampledAt: iso(at(1)) })],
      previous: new Map([['b', earlier]]),
    });
    expect(snapshot.pods.find((p) => p.uid === 'b')).toEqual(earlier);
    expect(snapshot.pods.find((p) => p.uid === 'a')).toMatchObject({ observedAt: iso(at(6)), state: 'healthy', findings: ['identity-mismatch'], spiffeId: 'spiffe://example.org/ns/shop/sa/orders' });
    // Round trip through the parser, and the older layout (no state) is still accepted.
    expect(parseHistorySnapshot(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
    const { state: _s, findings: _f, spiffeId: _i, ...old } = earlier;
    expect(parseHistorySnapshot({ ...snapshot, pods: [old] }).pods[0]).toEqual(old);
    expect(() => parseHistorySnapshot({ ...snapshot, pods: [{ ...earlier, state: 'fine' }] })).toThrow(/pods\[0\]\.state is not one of/);
    expect(() => parseHistorySnapshot({ ...snapshot, pods: [{ ...earlier, findings: ['odd'] }] })).toThrow(/pods\[0\]\.findings is not a list of findings/);
  });

  it('documents its default: 20 minutes, the tbot renewal interval', () => {
    expect(policy.maxObservationAgeSeconds).toBe(DEFAULT_RENEWAL_POLICY.tbotRenewalIntervalSeconds);
  });
});
