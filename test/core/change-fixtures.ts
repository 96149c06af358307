/** Small builders of sweep reports for change/event tests. */
import type { LedgerEntry } from '../../src/core/events/changes.js';
import type { Finding, PodReport, State, Summary, SweepReport } from '../../src/core/model/types.js';

export const NOW = '2025-06-01T12:00:00.000Z';

export function pod(name: string, state: State, findings: Finding[] = [], extra: Partial<PodReport> = {}): PodReport {
  const unreachable = state === 'unreachable';
  const missing = state === 'missing';
  return {
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    serviceAccount: 'carts',
    node: 'ip-10-0-1-23.eu-west-1.compute.internal',
    workload: { kind: 'Deployment', name: name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '') },
    state,
    findings,
    source: unreachable ? 'unknown' : 'tbot',
    certificate:
      unreachable || missing
        ? null
        : {
            serialNumber: '1A2B3C',
            fingerprintSha256: 'AB:CD:EF',
            spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
            notBefore: '2025-06-01T11:00:00.000Z',
            notAfter: '2025-06-01T12:30:00.000Z',
            ageSeconds: 3600,
            remainingSeconds: 1800,
            lifetimeSeconds: 5400,
          },
    secrets: unreachable
      ? []
      : [
          { name: 'default', versionInfo: '2025-06-01T11:00:00.123456789Z', lastUpdated: '2025-06-01T11:00:01.000Z', pushAgeSeconds: 3599 },
          { name: 'ROOTCA', versionInfo: '2025-06-01T11:00:00.123456789Z', lastUpdated: '2025-06-01T11:00:01.000Z', pushAgeSeconds: 3599 },
        ],
    ...(unreachable ? { error: 'exec into istio-proxy timed out after 10s' } : {}),
    ...extra,
  };
}

export function summaryOf(pods: readonly PodReport[], skipped = 0): Summary {
  const count = (s: State) => pods.filter((p) => p.state === s).length;
  return {
    sampled: pods.length,
    skipped,
    healthy: count('healthy'),
    stale: count('stale'),
    expiring: count('expiring'),
    expired: count('expired'),
    missing: count('missing'),
    unreachable: count('unreachable'),
  };
}

export function report(pods: PodReport[], options: { partial?: boolean; sweepId?: string } = {}): SweepReport {
  return {
    cluster: 'prod-mesh',
    sweepId: options.sweepId ?? 'sweep-2',
    startedAt: '2025-06-01T11:59:58.000Z',
    finishedAt: '2025-06-01T12:00:04.250Z',
    now: NOW,
    thresholds: { staleAfter: '60%', expiringWithin: '20%' },
    summary: summaryOf(pods),
    partial: options.partial ?? false,
    pods,
  };
}

export function entry(name: string, state: State, findings: Finding[] = [], extra: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    uid: `uid-${name}`,
    namespace: 'shop',
    name,
    state,
    findings,
    workload: { kind: 'Deployment', name: name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '') },
    observedAt: '2025-06-01T11:55:00.000Z',
    sweepId: 'sweep-1',
    expiresAt: Date.parse(NOW) / 1000 + 6 * 24 * 3600,
    ...extra,
  };
}
