import { describe, expect, it } from '@jest/globals';
import {
  buildSweepCompletedDetail,
  buildSweepFailedDetail,
  DETAIL_TYPES,
  detailBytes,
  EVENT_SOURCE,
  fitDetail,
  shorten,
  utf8Length,
  type PodUnhealthyDetail,
  type WorkloadRestartDetail,
} from '../../src/core/events/events.js';
import { NOW, pod, report, summaryOf } from './change-fixtures.js';

describe('event contract', () => {
  it('uses the published source and detail-type names', () => {
    expect(EVENT_SOURCE).toBe('mesh-cert-watch');
    expect(DETAIL_TYPES).toEqual(['Pod Certificate Unhealthy', 'Pod Certificate State Changed', 'Sweep Completed', 'Workload Restart', 'Agent Restart']);
  });
});

describe('buildSweepCompletedDetail', () => {
  it('summarises the sweep with duration, flags and per-pod errors', () => {
    const pods = [pod('a-1', 'healthy'), pod('b-1', 'unreachable'), pod('c-1', 'expired')];
    const detail = buildSweepCompletedDetail(report(pods), { events: { published: 3, failed: 1 } });
    expect(detail).toEqual({
      cluster: 'prod-mesh',
      sweepId: 'sweep-2',
      startedAt: '2025-06-01T11:59:58.000Z',
      finishedAt: '2025-06-01T12:00:04.250Z',
      durationMs: 6250,
      partial: false,
      failed: false,
      summary: { sampled: 3, skipped: 0, healthy: 1, stale: 0, expiring: 0, expired: 1, missing: 0, unreachable: 1 },
      thresholds: { staleAfter: '60%', expiringWithin: '20%' },
      errors: [{ namespace: 'shop', name: 'b-1', error: 'exec into istio-proxy timed out after 10s' }],
      errorsTotal: 1,
      eventsPublished: 3,
      eventsFailed: 1,
    });
  });

  it('trims the error list and long messages, keeping the total and flagging truncation', () => {
    const pods = Array.from({ length: 80 }, (_, i) => pod(`p-${i}`, 'unreachable', [], { error: `x${'y'.repeat(900)}` }));
    const detail = buildSweepCompletedDetail(report(pods, { partial: true }));
    expect(detail.partial).toBe(true);
    expect(detail.errors).toHaveLength(50);
    expect(detail.errorsTotal).toBe(80);
    expect(detail.errors[0]!.error).toHaveLength(500);
    expect(detail.truncated).toBe(true);
  });

  it('lists sweep-level errors first and can mark the sweep failed', () => {
    const detail = buildSweepCompletedDetail(report([pod('b-1', 'unreachable')]), {
      failed: true,
      sweepErrors: [{ namespace: 'billing', name: null, error: 'pods is forbidden' }],
    });
    expect(detail.failed).toBe(true);
    expect(detail.errors.map((e) => [e.namespace, e.name])).toEqual([
      ['billing', null],
      ['shop', 'b-1'],
    ]);
    expect(detail.errorsTotal).toBe(2);
  });

  it('describes a sweep that could not run', () => {
    const detail = buildSweepFailedDetail({
      cluster: 'prod-mesh',
      sweepId: 's',
      startedAt: NOW,
      finishedAt: '2025-06-01T12:00:30.000Z',
      error: 'connect ETIMEDOUT 10.0.0.1:443',
    });
    expect(detail).toMatchObject({
      failed: true,
      partial: false,
      durationMs: 30_000,
      errors: [{ namespace: null, name: null, error: 'connect ETIMEDOUT 10.0.0.1:443' }],
      errorsTotal: 1,
    });
    expect(detail.summary.sampled).toBe(0);
  });
});

describe('fitDetail', () => {
  const base: PodUnhealthyDetail = {
    ...pod('carts-1', 'stale', ['sds-pushes-stopped']),
    cluster: 'prod-mesh',
    sweepId: 's',
    observedAt: NOW,
    sweepSummary: summaryOf([pod('carts-1', 'stale')]),
  };

  it('returns a detail that already fits unchanged (same object)', () => {
    expect(fitDetail(base, 10_000)).toBe(base);
  });

  it('drops extra secrets first, keeping default and ROOTCA, and marks the detail truncated', () => {
    const secrets = [
      ...Array.from({ length: 40 }, (_, i) => ({ name: `outbound|${i}|x|svc.ns.svc.cluster.local`, versionInfo: 'v'.repeat(50), lastUpdated: null, pushAgeSeconds: null })),
      ...base.secrets,
    ];
    const big = { ...base, secrets };
    const limit = detailBytes({ ...base, truncated: true }) + 600;
    const fitted = fitDetail(big, limit);
    expect(detailBytes(fitted)).toBeLessThanOrEqual(limit);
    expect(fitted.truncated).toBe(true);
    expect(fitted.secrets.slice(0, 2).map((s) => s.name)).toEqual(['default', 'ROOTCA']);
    expect(fitted.secrets.length).toBeLessThan(secrets.length);
    expect(fitted.certificate).toEqual(base.certificate);
    expect(big.secrets).toHaveLength(42); // input untouched
  });

  it('shortens a huge error text and keeps identity fields intact', () => {
    const big = { ...base, state: 'unreachable' as const, error: 'E'.repeat(300_000), secrets: [] };
    const fitted = fitDetail(big, 4096);
    expect(detailBytes(fitted)).toBeLessThanOrEqual(4096);
    expect(fitted.error!.endsWith('…')).toBe(true);
    expect(fitted).toMatchObject({ cluster: 'prod-mesh', namespace: 'shop', name: 'carts-1', uid: 'uid-carts-1', state: 'unreachable', findings: ['sds-pushes-stopped'] });
  });

  it('halves long lists (restart pods) and keeps their head', () => {
    const restart: WorkloadRestartDetail = {
      cluster: 'prod-mesh',
      namespace: 'shop',
      workload: { kind: 'DaemonSet', name: 'edge' },
      outcome: 'restarted',
      reason: 'expired',
      pods: Array.from({ length: 5000 }, (_, i) => ({ name: `edge-${String(i).padStart(5, '0')}`, state: 'expired' as const })),
      triggeredBy: 'sweep-2',
      at: NOW,
    };
    const fitted = fitDetail(restart, 8192);
    expect(detailBytes(fitted)).toBeLessThanOrEqual(8192);
    expect(fitted.pods[0]!.name).toBe('edge-00000');
    expect(fitted.pods.length).toBeGreaterThan(10);
    expect(fitted.truncated).toBe(true);
  });

  it('returns an over-limit detail when identity alone does not fit (the caller must check)', () => {
    const fitted = fitDetail({ ...base, name: 'n'.repeat(2000) }, 500);
    expect(fitted.name).toHaveLength(2000);
    expect(detailBytes(fitted)).toBeGreaterThan(500);
  });
});

describe('text helpers', () => {
  it('counts UTF-8 bytes like Buffer does', () => {
    for (const s of ['abc', 'é', '€', '😀', 'a\uD800b', '']) expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
  });

  it('never splits a surrogate pair', () => {
    expect(shorten('ab😀cd', 4)).toBe('ab…');
    expect(shorten('abc', 3)).toBe('abc');
  });
});
