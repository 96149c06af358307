/**
 * Sample EventBridge events of every detail-type, typed by (and, in the tests, validated
 * against) the engine's event contract, with the routing each must get from the example
 * configuration's rules (restart states expiring and expired). Shared by the in-process tier
 * and the moto tier.
 */
import { agentRestartDetail, type AgentRestartDetail } from '../../../src/core/remediation/agent-remediation.js';
import {
  AGENT_RESTART,
  buildSweepFailedDetail,
  EVENT_SOURCE,
  POD_CERTIFICATE_STATE_CHANGED,
  POD_CERTIFICATE_UNHEALTHY,
  SWEEP_COMPLETED,
  WORKLOAD_RESTART,
  type Change,
  type DetailType,
  type PodEventDetail,
  type PodStateChangedDetail,
  type PodUnhealthyDetail,
  type RestartOutcome,
  type SweepCompletedDetail,
  type WorkloadRestartDetail,
} from '../../../src/core/events/events.js';
import type { Finding, State, Summary } from '../../../src/core/model/types.js';

export interface SampleEvent {
  readonly name: string;
  readonly event: {
    readonly version: '0';
    readonly id: string;
    readonly 'detail-type': DetailType;
    readonly source: string;
    readonly account: string;
    readonly time: string;
    readonly region: string;
    readonly resources: readonly string[];
    readonly detail: object;
  };
  /** Whether the remediator rule (restart states expiring, expired) must match. */
  readonly remediator: boolean;
  /** Whether the notifier rule must match. */
  readonly notifier: boolean;
}

const observedAt = '2026-11-20T03:05:00.000Z';
let sequence = 0;

function envelope(detailType: DetailType, detail: object, source: string = EVENT_SOURCE): SampleEvent['event'] {
  sequence += 1;
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: observedAt,
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}

function pod(state: State, findings: Finding[] = []): PodEventDetail {
  const expired = state === 'expired';
  const readable = state !== 'missing' && state !== 'unreachable';
  return {
    cluster: 'prod-eu-1',
    sweepId: 'sweep-0001',
    observedAt,
    namespace: 'payments',
    name: 'checkout-7d9f8b6c5d-x2x4q',
    uid: '6f1c2a3b-0000-4000-8000-000000000001',
    serviceAccount: 'checkout',
    node: 'ip-10-0-1-23.eu-west-1.compute.internal',
    workload: { kind: 'Deployment', name: 'checkout' },
    state,
    findings,
    source: 'tbot',
    certificate: readable
      ? {
          serialNumber: '0A1B2C',
          fingerprintSha256: 'AA:BB',
          spiffeId: 'spiffe://example.org/ns/payments/sa/checkout',
          notBefore: '2026-11-20T02:00:00.000Z',
          notAfter: expired ? '2026-11-20T03:00:00.000Z' : '2026-11-20T03:10:00.000Z',
          ageSeconds: 3900,
          remainingSeconds: expired ? -300 : 300,
          lifetimeSeconds: 3600,
        }
      : null,
    secrets: [{ name: 'default', versionInfo: '2026-11-20T02:00:00.123456789Z', lastUpdated: '2026-11-20T02:00:01.000Z', pushAgeSeconds: 3899 }],
    ...(state === 'unreachable' ? { error: 'exec timed out after 15s' } : {}),
  };
}

/** The counts of the sweep the sample pods were seen in (every Unhealthy detail carries them). */
const sweepSummary: Summary = { sampled: 40, skipped: 2, healthy: 37, stale: 1, expiring: 1, expired: 0, missing: 0, unreachable: 1 };

function unhealthy(state: State, findings: Finding[] = []): SampleEvent['event'] {
  const detail: PodUnhealthyDetail = { ...pod(state, findings), sweepSummary };
  return envelope(POD_CERTIFICATE_UNHEALTHY, detail);
}

function changed(state: State, previousState: State | null, change: Exclude<Change, 'gone'>): SampleEvent['event'] {
  const detail: PodStateChangedDetail = {
    ...pod(state),
    previousState,
    previousFindings: [],
    previousObservedAt: previousState === null ? null : '2026-11-20T03:00:00.000Z',
    change,
  };
  return envelope(POD_CERTIFICATE_STATE_CHANGED, detail);
}

function gone(): SampleEvent['event'] {
  const detail: PodStateChangedDetail = {
    cluster: 'prod-eu-1',
    sweepId: 'sweep-0001',
    observedAt,
    namespace: 'payments',
    name: 'checkout-7d9f8b6c5d-old00',
    uid: '6f1c2a3b-0000-4000-8000-000000000002',
    workload: { kind: 'Deployment', name: 'checkout' },
    state: null,
    findings: [],
    change: 'gone',
    previousState: 'expired',
    previousFindings: ['sds-pushes-stopped'],
    previousObservedAt: '2026-11-20T03:00:00.000Z',
  };
  return envelope(POD_CERTIFICATE_STATE_CHANGED, detail);
}

function sweep(partial: boolean, podErrors: SweepCompletedDetail['errors'] = []): SampleEvent['event'] {
  const detail: SweepCompletedDetail = {
    cluster: 'prod-eu-1',
    sweepId: 'sweep-0001',
    startedAt: '2026-11-20T03:05:00.000Z',
    finishedAt: '2026-11-20T03:05:42.000Z',
    durationMs: 42000,
    partial,
    failed: false,
    summary: { sampled: 40, skipped: 2, healthy: 37, stale: 1, expiring: 1, expired: 0, missing: 0, unreachable: 1 },
    thresholds: { staleAfter: '60%', expiringWithin: '20%' },
    errors: podErrors,
    errorsTotal: podErrors.length,
  };
  return envelope(SWEEP_COMPLETED, detail);
}

function restart(outcome: RestartOutcome, reason: string): WorkloadRestartDetail {
  return {
    cluster: 'prod-eu-1',
    namespace: 'payments',
    workload: { kind: 'Deployment', name: 'checkout' },
    outcome,
    reason,
    pods: [{ name: 'checkout-7d9f8b6c5d-x2x4q', state: 'expiring' }],
    triggeredBy: 'sweep-0001',
    at: observedAt,
  };
}

function agentRestart(outcome: RestartOutcome, reason: string): AgentRestartDetail {
  return agentRestartDetail(
    {
      ...pod('expiring', ['sds-push-without-rotation', 'tbot-outdated']),
      agent: { pod: 'tbot-x7k2p', version: '18.5.0' },
      sweepSummary,
    },
    {
      namespace: 'teleport-system',
      agent: null,
      outcome,
      reason: reason as AgentRestartDetail['reason'],
      message: `${outcome}: tbot agent on node ip-10-0-1-23.eu-west-1.compute.internal`,
      dryRun: false,
      at: new Date(observedAt),
    },
  );
}

export const SAMPLE_EVENTS: readonly SampleEvent[] = [
  { name: 'unhealthy expiring', event: unhealthy('expiring'), remediator: true, notifier: false },
  { name: 'unhealthy expired', event: unhealthy('expired'), remediator: true, notifier: false },
  // Routed: `sds-pushes-stopped` can make `stale` definite (with workload-certs-volume); the policy decides.
  { name: 'unhealthy stale', event: unhealthy('stale', ['sds-pushes-stopped']), remediator: true, notifier: false },
  { name: 'unhealthy stale, not definite', event: unhealthy('stale', ['sds-push-without-rotation', 'tbot-outdated']), remediator: false, notifier: false },
  {
    name: 'unhealthy stale, proven across sweeps',
    event: envelope(POD_CERTIFICATE_UNHEALTHY, {
      ...pod('stale', ['sds-push-without-rotation']),
      agent: { pod: 'tbot-x7k2p', version: '18.5.0' },
      rotation: { expectedRenewalAt: '2026-11-20T02:20:00.000Z', overdueSeconds: 2700, provenAcrossSweeps: true },
      sweepSummary,
    }),
    remediator: true,
    notifier: false,
  },
  { name: 'unhealthy missing', event: unhealthy('missing'), remediator: false, notifier: false },
  { name: 'unhealthy unreachable', event: unhealthy('unreachable'), remediator: false, notifier: false },
  { name: 'healthy with a finding', event: unhealthy('healthy', ['workload-certs-volume']), remediator: false, notifier: false },
  { name: 'state changed: opened', event: changed('stale', null, 'opened'), remediator: false, notifier: true },
  { name: 'state changed: worsened', event: changed('expired', 'expiring', 'worsened'), remediator: false, notifier: true },
  { name: 'state changed: resolved', event: changed('healthy', 'expiring', 'resolved'), remediator: false, notifier: true },
  { name: 'state changed: gone', event: gone(), remediator: false, notifier: true },
  { name: 'sweep completed', event: sweep(false), remediator: false, notifier: false },
  {
    name: 'sweep completed with pod errors',
    event: sweep(false, [{ namespace: 'payments', name: 'checkout-7d9f8b6c5d-x2x4q', error: 'exec timed out after 15s' }]),
    remediator: false,
    notifier: false,
  },
  { name: 'sweep partial', event: sweep(true), remediator: false, notifier: true },
  {
    name: 'sweep failed',
    event: envelope(
      SWEEP_COMPLETED,
      buildSweepFailedDetail({
        cluster: 'prod-eu-1',
        sweepId: 'sweep-0002',
        startedAt: '2026-11-20T03:10:00.000Z',
        finishedAt: '2026-11-20T03:10:10.000Z',
        error: 'cluster unreachable: connect ETIMEDOUT',
      }),
    ),
    remediator: false,
    notifier: true,
  },
  { name: 'restart: restarted', event: envelope(WORKLOAD_RESTART, restart('restarted', 'expiring')), remediator: false, notifier: true },
  { name: 'restart: skipped', event: envelope(WORKLOAD_RESTART, restart('skipped', 'cooldown')), remediator: false, notifier: true },
  { name: 'restart: dry-run', event: envelope(WORKLOAD_RESTART, restart('dry-run', 'expiring')), remediator: false, notifier: true },
  { name: 'restart: failed', event: envelope(WORKLOAD_RESTART, restart('failed', 'api-error')), remediator: false, notifier: true },
  { name: 'agent restart: restarted', event: envelope(AGENT_RESTART, agentRestart('restarted', 'expiring')), remediator: false, notifier: true },
  { name: 'agent restart: skipped', event: envelope(AGENT_RESTART, agentRestart('skipped', 'agent-not-ready')), remediator: false, notifier: true },
  {
    name: 'expired pod from another source',
    event: envelope(POD_CERTIFICATE_UNHEALTHY, { ...pod('expired'), sweepSummary }, 'someone-else'),
    remediator: false,
    notifier: false,
  },
  {
    name: 'restart from another source',
    event: envelope(WORKLOAD_RESTART, restart('restarted', 'expired'), 'someone-else'),
    remediator: false,
    notifier: false,
  },
];

/** The sample events of one detail-type from our source. */
export function samplesOf(detailType: DetailType): SampleEvent[] {
  return SAMPLE_EVENTS.filter((sample) => sample.event['detail-type'] === detailType && sample.event.source === EVENT_SOURCE);
}
