/**
 * The product's public vocabulary (see docs/contract.md). Names here are contracts: the JSON report,
 * the EventBridge events and the dashboards all use them verbatim. The report's shapes are
 * defined once, as zod schemas in ./schemas.ts; the types here are inferred from them.
 */
import type * as z from 'zod';
import type {
  AgentReportSchema,
  CertificateReportSchema,
  CertificateVerdictSchema,
  PodAgentRefSchema,
  PodReportSchema,
  PreviousObservationReportSchema,
  RotationReportSchema,
  RotationsReportSchema,
  SecretReportSchema,
  SourceRotationsReportSchema,
  SummarySchema,
  SweepReportSchema,
  ThresholdsReportSchema,
  WorkloadRefSchema,
} from './schemas.js';

/*
 * The enumerations live here, free of zod, so that code which only needs the names (the CLI's
 * table output, the classifier) does not load zod; ./schemas.ts builds its enums from them.
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
export const SOURCES = ['tbot', 'istio-agent', 'unknown'] as const;
export type Source = (typeof SOURCES)[number];

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

/**
 * `T` with every property and array read-only, all the way down: what the engine hands around
 * is never mutated, and the schemas' inferred types are mutable.
 */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

// The report's types are inferred from the zod schemas in ./schemas.ts (the one contract source).

/** Facts read from the leaf (first) certificate of the `default` chain. */
export type CertificateReport = DeepReadonly<z.output<typeof CertificateReportSchema>>;
export type SecretReport = DeepReadonly<z.output<typeof SecretReportSchema>>;
/** Controller at the top of a pod's owner chain. */
export type WorkloadRef = DeepReadonly<z.output<typeof WorkloadRefSchema>>;
/** The classification of one certificate dump (the `inspect --output json` object). */
export type CertificateVerdict = DeepReadonly<z.output<typeof CertificateVerdictSchema>>;
/** The tbot agent pod serving a pod (the agent on the pod's node). */
export type PodAgentRef = DeepReadonly<z.output<typeof PodAgentRefSchema>>;
/** One pod in the sweep report. */
export type PodReport = DeepReadonly<z.output<typeof PodReportSchema>>;
/** One tbot agent (one per node) in the report's `agents` section. */
export type AgentReport = DeepReadonly<z.output<typeof AgentReportSchema>>;
/** The pod's leaf at its previous observation (docs/contract.md §8). */
export type PreviousObservationReport = DeepReadonly<z.output<typeof PreviousObservationReportSchema>>;
/** The pod's leaf against its expected renewal point (docs/contract.md §8). */
export type RotationReport = DeepReadonly<z.output<typeof RotationReportSchema>>;
/** Fields a sweep with rotation history adds to the verdict (all absent without history). */
export type RotationFields = Pick<CertificateVerdict, 'previous' | 'rotatedSinceLastSweep' | 'rotation'>;
export type Summary = DeepReadonly<z.output<typeof SummarySchema>>;
export type ThresholdsReport = DeepReadonly<z.output<typeof ThresholdsReportSchema>>;
export type SweepReport = DeepReadonly<z.output<typeof SweepReportSchema>>;
/** Rotation statistics of one source in one sweep. */
export type SourceRotationsReport = DeepReadonly<z.output<typeof SourceRotationsReportSchema>>;
export type RotationsReport = DeepReadonly<z.output<typeof RotationsReportSchema>>;
