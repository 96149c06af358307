/**
 * Builders for the notifier tests: EventBridge envelopes of the three detail-types the notifier
 * reads, SQS records carrying them, a local HTTP server standing in for Slack, and a fake clock.
 * Not a test file.
 */
import type { SQSEvent } from 'aws-lambda';
import { sqsRecord } from '../../src/sandbox/emulator/local-event-bus.js';
import {
  EVENT_SOURCE,
  POD_CERTIFICATE_STATE_CHANGED,
  SWEEP_COMPLETED,
  WORKLOAD_RESTART,
  type Change,
  type PodStateChangedDetail,
  type SweepCompletedDetail,
} from '../../src/core/events/events.js';
import type { RestartNotice } from '../../src/core/notification/notifications.js';
import type { Finding, Source, State, WorkloadRef } from '../../src/core/model/types.js';

export const OBSERVED_AT = '2026-11-20T03:05:00.000Z';

export interface PodOptions {
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly workload?: WorkloadRef | null;
  readonly state?: State;
  readonly findings?: Finding[];
  readonly previousState?: State | null;
  readonly previousFindings?: Finding[];
  readonly change?: Change;
  readonly ageSeconds?: number;
  readonly remainingSeconds?: number;
  readonly source?: Source;
  readonly sweepId?: string;
  readonly cluster?: string;
  readonly error?: string;
}

/** A `Pod Certificate State Changed` detail (a pod of Deployment carts in shop, by default). */
export function changeDetail(options: PodOptions = {}): PodStateChangedDetail {
  const name = options.name ?? 'carts-7d9f8b6c5d-x2x4q';
  const change = options.change ?? 'opened';
  const common = {
    cluster: options.cluster ?? 'prod-eu-1',
    sweepId: options.sweepId ?? 'sweep-0001',
    observedAt: OBSERVED_AT,
    namespace: options.namespace ?? 'shop',
    name,
    uid: options.uid ?? `uid-${name}`,
    workload: options.workload === undefined ? { kind: 'Deployment', name: 'carts' } : options.workload,
    previousFindings: options.previousFindings ?? [],
    previousObservedAt: options.previousState ? '2026-11-20T02:55:00.000Z' : null,
  };
  if (change === 'gone') {
    return { ...common, state: null, findings: [], change: 'gone', previousState: options.previousState ?? 'expired' };
  }
  const state = options.state ?? 'stale';
  const readable = state !== 'missing' && state !== 'unreachable';
  return {
    ...common,
    serviceAccount: 'carts',
    node: 'ip-10-0-1-23.eu-west-1.compute.internal',
    state,
    findings: options.findings ?? [],
    source: options.source ?? (readable ? 'tbot' : 'unknown'),
    certificate: readable
      ? {
          serialNumber: '0A1B2C',
          fingerprintSha256: 'AA:BB',
          spiffeId: 'spiffe://example.org/ns/shop/sa/carts',
          notBefore: '2026-11-20T02:24:00.000Z',
          notAfter: '2026-11-20T03:24:00.000Z',
          ageSeconds: options.ageSeconds ?? 41 * 60,
          remainingSeconds: options.remainingSeconds ?? 19 * 60,
          lifetimeSeconds: 3600,
        }
      : null,
    secrets: [],
    ...(options.error !== undefined ? { error: options.error } : {}),
    previousState: options.previousState ?? null,
    change,
  } as PodStateChangedDetail;
}

export function restartDetail(options: Partial<RestartNotice> = {}): RestartNotice {
  return {
    cluster: 'prod-eu-1',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'carts' },
    outcome: 'restarted',
    reason: 'expired',
    pods: [{ name: 'carts-7d9f8b6c5d-x2x4q', state: 'expired', findings: ['sds-push-without-rotation'] }],
    triggeredBy: 'sweep-0002',
    at: '2026-11-20T03:10:04.000Z',
    message: 'rollout restart of Deployment shop/carts: pod carts-7d9f8b6c5d-x2x4q certificate expired',
    dryRun: false,
    action: 'rollout-restart',
    podUid: 'uid-carts-7d9f8b6c5d-x2x4q',
    policy: 'restart',
    policySource: 'default',
    ...options,
  };
}

export function sweepDetail(options: Partial<SweepCompletedDetail> = {}): SweepCompletedDetail {
  return {
    cluster: 'prod-eu-1',
    sweepId: 'sweep-0003',
    startedAt: '2026-11-20T03:15:00.000Z',
    finishedAt: '2026-11-20T03:15:20.000Z',
    durationMs: 20_000,
    partial: false,
    failed: true,
    summary: { sampled: 0, skipped: 0, healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 0 },
    thresholds: null,
    errors: [{ namespace: null, name: null, error: 'cluster prod-eu-1 is unreachable: connect ETIMEDOUT 10.0.0.1:443' }],
    errorsTotal: 1,
    ...options,
  };
}

let sequence = 0;

/** The whole EventBridge event, as the notifier rule's SQS target delivers it. */
export function envelope(detailType: string, detail: object): Record<string, unknown> {
  sequence += 1;
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    'detail-type': detailType,
    source: EVENT_SOURCE,
    account: '123456789012',
    time: OBSERVED_AT,
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}

export const changeEvent = (options: PodOptions = {}) => envelope(POD_CERTIFICATE_STATE_CHANGED, changeDetail(options));
export const restartEvent = (options: Partial<RestartNotice> = {}) => envelope(WORKLOAD_RESTART, restartDetail(options));
export const sweepEvent = (options: Partial<SweepCompletedDetail> = {}) => envelope(SWEEP_COMPLETED, sweepDetail(options));

export { sqsRecord } from '../../src/sandbox/emulator/local-event-bus.js';

export function sqsEvent(bodies: readonly unknown[], prefix = 'msg'): SQSEvent {
  return { Records: bodies.map((body, i) => sqsRecord(`${prefix}-${i + 1}`, body)) };
}

export { startFakeSlack, type FakeSlack, type SlackAnswer } from '../../src/sandbox/emulator/fake-slack.js';
export { FakeClock } from '../../src/sandbox/emulator/fake-clock.js';
