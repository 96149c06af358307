/**
 * The product's public vocabulary (see docs/contract.md). Names here are contracts: the JSON report,
 * the EventBridge events and the dashboards all use them verbatim.
 */

/** One state per sampled pod; when several apply the worst one wins (see STATE_SEVERITY). */
export const STATES = ['healthy', 'stale', 'expiring', 'expired', 'missing', 'unreachable'] as const;
export type State = (typeof STATES)[number];

/**
 * Severity used to pick the worst state and to order reports ("worst first").
 * `unreachable` and `missing` rank below `expired`: we know less, but nothing proves the
 * certificate is dead.
 */
export const STATE_SEVERITY: Readonly<Record<State, number>> = {
  healthy: 0,
  stale: 1,
  unreachable: 2,
  missing: 3,
  expiring: 4,
  expired: 5,
};

export const FINDINGS = [
  'sds-push-without-rotation',
  'sds-pushes-stopped',
  'workload-certs-volume',
  'identity-mismatch',
  'bundle-mismatch',
  'not-yet-valid',
  'tbot-outdated',
] as const;
export type Finding = (typeof FINDINGS)[number];

/** Who serves SDS to the sidecar, inferred from the dump. */
export type Source = 'tbot' | 'istio-agent' | 'unknown';

/** A threshold: a fixed duration, or a share of the leaf certificate's own lifetime. */
export type Threshold =
  | { readonly kind: 'duration'; readonly seconds: number; readonly text: string }
  | { readonly kind: 'percent'; readonly percent: number; readonly text: string };

export interface Thresholds {
  /** A leaf older than this is overdue for rotation (`--stale-after`, default 60%). */
  readonly staleAfter: Threshold;
  /** A leaf valid for less than this is about to fail (`--expiring-within`, default 20%). */
  readonly expiringWithin: Threshold;
  /**
   * How far in the future a notBefore may lie and still count as valid, in whole seconds
   * (`--clock-skew-allowance`, default DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS when absent).
   */
  readonly clockSkewAllowanceSeconds?: number;
}

/** Facts read from the leaf (first) certificate of the `default` chain. */
export interface CertificateReport {
  /** Upper-case hex, no separators (as node:crypto reports it). */
  readonly serialNumber: string;
  /** Upper-case hex pairs separated by colons (node:crypto `fingerprint256`). */
  readonly fingerprintSha256: string;
  /** First `spiffe://` URI SAN, or null when the leaf carries none. */
  readonly spiffeId: string | null;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly ageSeconds: number;
  readonly remainingSeconds: number;
  readonly lifetimeSeconds: number;
}

export interface SecretReport {
  /** SDS resource name: `default`, `ROOTCA`, or another name Envoy holds. */
  readonly name: string;
  /** Raw `version_info`, or null when absent. */
  readonly versionInfo: string | null;
  /** Envoy's `last_updated` (ISO), or null when absent. */
  readonly lastUpdated: string | null;
  /** Seconds between `lastUpdated` and the evaluation instant, or null. */
  readonly pushAgeSeconds: number | null;
}

/** Controller at the top of a pod's owner chain. */
export interface WorkloadRef {
  readonly kind: string;
  readonly name: string;
}

/** The classification of one certificate dump (the `inspect --output json` object). */
export interface CertificateVerdict extends RotationFields {
  readonly state: State;
  readonly findings: readonly Finding[];
  readonly source: Source;
  readonly certificate: CertificateReport | null;
  readonly secrets: readonly SecretReport[];
  /** Present only when the pod could not be judged (state `unreachable`). */
  readonly error?: string;
}

/** The tbot agent pod serving a pod (the agent on the pod's node). */
export interface PodAgentRef {
  /** Name of the agent pod (in the configured tbot namespace). */
  readonly pod: string;
  /** tbot version from the agent's image tag; null when the tag is not a version. */
  readonly version: string | null;
}

/** One pod in the sweep report. */
export interface PodReport extends CertificateVerdict {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly serviceAccount: string;
  readonly node: string;
  readonly workload: WorkloadRef | null;
  /** Present when tbot serves the pod and an agent runs on its node. */
  readonly agent?: PodAgentRef;
}

/** One tbot agent (one per node) in the report's `agents` section. */
export interface AgentReport {
  readonly node: string;
  readonly pod: string;
  readonly namespace: string;
  readonly image: string | null;
  readonly version: string | null;
  readonly ready: boolean;
  /** The version has a known rotation bug (see `tbot-outdated`). */
  readonly outdated: boolean;
  /** The release to upgrade to when outdated, else null. */
  readonly upgradeTo: string | null;
  /** Sampled pods this agent serves. */
  readonly podsServed: number;
  /** Of those, the ones not `healthy`. */
  readonly podsUnhealthy: number;
}

/** The pod's leaf at its previous observation (docs/contract.md §8). */
export interface PreviousObservationReport {
  readonly serialNumber: string;
  readonly fingerprintSha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** `default` `version_info` (tbot: the push instant itself), or null. */
  readonly versionInfo: string | null;
  /** `default` `last_updated`, or null. */
  readonly lastUpdated: string | null;
  /** The evaluation instant of the sweep that observed it. */
  readonly observedAt: string;
}

/** The pod's leaf against its expected renewal point (docs/contract.md §8). */
export interface RotationReport {
  /** When the current leaf should have been replaced at the latest, or null (unknown source). */
  readonly expectedRenewalAt: string | null;
  /** Seconds past `expectedRenewalAt` once the pod is overdue; 0 when it is not. */
  readonly overdueSeconds: number;
  /** `sds-push-without-rotation` proven by a push seen across two sweeps with the serial unchanged. */
  readonly provenAcrossSweeps: boolean;
}

/** Fields a sweep with rotation history adds to the verdict (all absent without history). */
export interface RotationFields {
  /** Absent when the pod has no previous observation. */
  readonly previous?: PreviousObservationReport;
  /** Absent when the pod has no previous observation. */
  readonly rotatedSinceLastSweep?: boolean;
  /** Present when the sweep ran with history and the pod held a leaf. */
  readonly rotation?: RotationReport;
}

export interface Summary {
  readonly sampled: number;
  readonly skipped: number;
  readonly healthy: number;
  readonly stale: number;
  readonly expiring: number;
  readonly expired: number;
  readonly missing: number;
  readonly unreachable: number;
}

export interface ThresholdsReport {
  readonly staleAfter: string;
  readonly expiringWithin: string;
  /** The clock-skew allowance applied to notBefore, as a duration (`60s`). */
  readonly clockSkewAllowance?: string;
}

export interface SweepReport {
  readonly cluster: string;
  readonly sweepId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly now: string;
  readonly thresholds: ThresholdsReport;
  readonly summary: Summary;
  /** True when a deadline (or a pod list that timed out) stopped sampling before every pod was seen. */
  readonly partial: boolean;
  /** Why listing stopped early (a list request that timed out); the pods listed before it were judged. */
  readonly listError?: string;
  /** Rotations seen since the previous sweep; present when the sweep ran with history. */
  readonly rotations?: RotationsReport;
  readonly pods: readonly PodReport[];
  /**
   * The tbot agents found (one per node), when the sweep looked for them; absent when it did not
   * (e.g. `inspect`, or a source without agent listing).
   */
  readonly agents?: readonly AgentReport[];
  /** Why the agents could not be listed (then `agents` is empty and no pod gets `tbot-outdated`). */
  readonly agentsError?: string;
}

/** Rotation statistics of one source in one sweep. */
export interface SourceRotationsReport {
  /** Pods whose leaf changed since their previous observation. */
  readonly observed: number;
  /** Pods compared with a previous observation. */
  readonly compared: number;
  /** Pods overdue for renewal. */
  readonly overdue: number;
  /** Median / largest notBefore(new) − notBefore(previous) of the rotations seen, seconds; null without one. */
  readonly intervalSecondsP50: number | null;
  readonly intervalSecondsMax: number | null;
}

export interface RotationsReport {
  readonly observed: number;
  readonly compared: number;
  readonly overdue: number;
  readonly provenAcrossSweeps: number;
  readonly bySource: Partial<Record<Source, SourceRotationsReport>>;
}
