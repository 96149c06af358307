/** Shared builders for the remediator tests: triggers, policies, dynalite tables. Not a test file. */
import type { KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { DEFAULT_REMEDIATION_POLICY, type RemediationPolicy, type RemediationTrigger } from '../../src/core/remediation/remediation.js';
import type { State, Summary } from '../../src/core/model/types.js';

export const NOW = new Date('2030-03-01T12:00:00Z');
export const minutes = (n: number, from: Date = NOW): Date => new Date(from.getTime() + n * 60_000);
export const iso = (at: Date): string => at.toISOString();

export const POLICY: RemediationPolicy = { ...DEFAULT_REMEDIATION_POLICY, budgetPerHour: 100 };

/** A sweep where this pod is one of few unhealthy ones: the breaker stays closed. */
export const CALM_SUMMARY: Summary = { sampled: 20, skipped: 0, healthy: 19, stale: 0, expiring: 1, expired: 0, missing: 0, unreachable: 0 };

export interface TriggerOptions {
  readonly state?: State;
  readonly observedAt?: Date;
  readonly serial?: string;
  readonly notBefore?: Date;
  readonly sweepSummary?: Summary | null;
  readonly cluster?: string;
  readonly sweepId?: string;
}

/** The `Pod Certificate Unhealthy` detail the sampler would send for `pod`. */
export function triggerFor(pod: KubeObject, options: TriggerOptions = {}): RemediationTrigger {
  const state = options.state ?? 'expiring';
  const observedAt = options.observedAt ?? minutes(-1);
  const notBefore = options.notBefore ?? minutes(-52, observedAt);
  const owner = pod.metadata.ownerReferences?.[0];
  const certificate =
    state === 'missing' || state === 'unreachable'
      ? null
      : {
          serialNumber: options.serial ?? '1F00AA',
          fingerprintSha256: 'AB:CD',
          spiffeId: `spiffe://example.org/ns/${pod.metadata.namespace}/sa/app`,
          notBefore: iso(notBefore),
          notAfter: iso(minutes(60, notBefore)),
          ageSeconds: 3120,
          remainingSeconds: 480,
          lifetimeSeconds: 3600,
        };
  return {
    cluster: options.cluster ?? 'prod-mesh',
    sweepId: options.sweepId ?? 'sweep-1',
    observedAt: iso(observedAt),
    namespace: pod.metadata.namespace!,
    name: pod.metadata.name,
    uid: pod.metadata.uid!,
    serviceAccount: 'app',
    node: 'ip-10-0-1-10.ec2.internal',
    workload: owner ? { kind: owner.kind, name: owner.name } : null,
    state,
    findings: state === 'expiring' ? ['sds-pushes-stopped'] : [],
    source: 'tbot',
    certificate,
    secrets: [],
    ...(options.sweepSummary === null ? {} : { sweepSummary: options.sweepSummary ?? CALM_SUMMARY }),
  };
}

export { startLocalDynamo as startDynalite, type LocalDynamo } from '../../src/sandbox/emulator/local-dynamodb.js';
