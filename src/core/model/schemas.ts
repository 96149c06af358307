/**
 * The product's public vocabulary and the per-pod report, as zod schemas: the ONE source of the
 * contract (docs/contract.md §2-4, §8). The TypeScript types (./types.ts) are inferred from them,
 * the event details (../events/schemas.ts) are built from them, and the published JSON Schemas
 * (src/events/schemas/, `npm run schemas`) are generated from them. Descriptions here end up in
 * those JSON Schemas: keep them short and true.
 *
 * `import * as z` (never `import { z }`): the named import keeps every zod locale in the Lambda
 * bundles (issue 14).
 */
import * as z from 'zod';
import { FINDINGS, SOURCES, STATES } from './types.js';

// Named schemas (`id`) become `definitions` of the generated JSON Schemas, referenced by `$ref`.

export const StateSchema = z.enum(STATES).meta({ id: 'state' });
export const FindingSchema = z.enum(FINDINGS).meta({ id: 'finding' });
/** Findings never repeat (the JSON Schema says `uniqueItems`; the refinement checks it when parsing). */
export const FindingsSchema = z
  .array(FindingSchema)
  .refine((findings) => new Set(findings).size === findings.length, { message: 'findings must not repeat' })
  .meta({ id: 'findings', uniqueItems: true });
export const SourceSchema = z.enum(SOURCES);

/** RFC 3339 instant (`2026-11-20T03:15:00.000Z`; tbot's nanoseconds and offsets accepted). */
export const DateTimeSchema = z.iso
  .datetime({ offset: true, error: (issue) => (issue.input === undefined ? undefined : 'not an RFC 3339 instant') })
  .meta({ id: 'dateTime' });
export const NullableDateTimeSchema = DateTimeSchema.nullable();
export const CountSchema = z.int().min(0).meta({ id: 'count' });
/** A non-empty name (cluster, namespace, pod, uid...). */
export const NameSchema = z.string().min(1);

export const WorkloadRefSchema = z
  .object({
    kind: NameSchema.describe('Top controller kind: Deployment, StatefulSet, DaemonSet, Rollout, Job...'),
    name: NameSchema,
  })
  .meta({ id: 'workload', description: 'Controller at the top of the pod\'s owner chain.' });
export const NullableWorkloadRefSchema = WorkloadRefSchema.nullable().meta({ id: 'nullableWorkload' });

export const CertificateReportSchema = z
  .object({
    serialNumber: z.string().describe('Upper-case hex, no separators (as node:crypto reports it).'),
    fingerprintSha256: z.string().describe('Upper-case hex pairs separated by colons (node:crypto fingerprint256).'),
    spiffeId: z.string().nullable().describe('First spiffe:// URI SAN, or null when the leaf carries none.'),
    notBefore: DateTimeSchema,
    notAfter: DateTimeSchema,
    ageSeconds: z.number(),
    remainingSeconds: z.number(),
    lifetimeSeconds: z.number(),
  })
  .describe('Facts read from the leaf (first) certificate of the default chain.');
export const NullableCertificateReportSchema = CertificateReportSchema.nullable().meta({ id: 'certificate' });

export const SecretReportSchema = z
  .object({
    name: z.string().describe('SDS resource name: default, ROOTCA, or another name Envoy holds.'),
    versionInfo: z.string().nullable().describe('Raw version_info, or null when absent.'),
    lastUpdated: NullableDateTimeSchema.describe("Envoy's last_updated, or null when absent."),
    pushAgeSeconds: z.number().nullable().describe('Seconds between lastUpdated and the evaluation instant, or null.'),
  })
  .meta({ id: 'secret' });

export const PreviousObservationReportSchema = z
  .object({
    serialNumber: z.string(),
    fingerprintSha256: z.string(),
    notBefore: DateTimeSchema,
    notAfter: DateTimeSchema,
    versionInfo: z.string().nullable().describe('default version_info (tbot: the push instant itself), or null.'),
    lastUpdated: NullableDateTimeSchema.describe('default last_updated, or null.'),
    observedAt: DateTimeSchema.describe('The evaluation instant of the sweep that observed it.'),
  })
  .meta({
    id: 'previousObservation',
    description: "The pod's leaf at its previous observation (rotation history). Absent when the pod has no previous observation.",
  });

export const RotationReportSchema = z
  .object({
    expectedRenewalAt: NullableDateTimeSchema.describe(
      'When the source should have replaced this leaf at the latest (tbot: notBefore + renewal interval; Istio agent: notBefore + (1 - grace ratio + jitter) x lifetime); null for an unknown source.',
    ),
    overdueSeconds: z
      .int()
      .min(0)
      .describe('Seconds past expectedRenewalAt once the pod is overdue (past it plus the slack, or proven); 0 otherwise.'),
    provenAcrossSweeps: z
      .boolean()
      .describe(
        'sds-push-without-rotation proven: a push seen across two sweeps (version_info or last_updated advanced) at or after the expected renewal point, with the serial unchanged.',
      ),
  })
  .meta({
    id: 'rotation',
    description: 'The leaf against its expected renewal point (present when the sweep ran with rotation history and the pod held a leaf).',
  });

export const PodAgentRefSchema = z
  .object({
    pod: NameSchema.describe('Name of the agent pod in the configured tbot namespace.'),
    version: z.string().nullable().describe("tbot version from the agent's image tag; null when the tag is not a version."),
  })
  .meta({
    id: 'agentRef',
    description: "The tbot agent pod on the pod's node (present when tbot serves the pod and an agent was found).",
  });

/** The classification of one certificate dump (the `inspect --output json` object). */
export const CertificateVerdictSchema = z.object({
  state: StateSchema,
  findings: FindingsSchema,
  source: SourceSchema,
  certificate: NullableCertificateReportSchema,
  secrets: z.array(SecretReportSchema),
  error: z.string().optional().describe('Why the pod could not be sampled (state unreachable).'),
  previous: PreviousObservationReportSchema.optional(),
  rotatedSinceLastSweep: z
    .boolean()
    .optional()
    .describe('The leaf (serial or fingerprint) changed since the previous observation. Absent when there is none.'),
  rotation: RotationReportSchema.optional(),
});

/** Fields that identify a sampled pod. */
export const PodIdentityShape = {
  namespace: NameSchema,
  name: NameSchema,
  uid: NameSchema,
} as const;

/** One pod in the sweep report (docs/contract.md §4.1): where it runs, then its verdict. */
export const PodReportSchema = z.object({
  ...PodIdentityShape,
  serviceAccount: z.string(),
  node: z.string(),
  workload: NullableWorkloadRefSchema,
  ...CertificateVerdictSchema.shape,
  agent: PodAgentRefSchema.optional(),
  sampled: z
    .literal(false)
    .optional()
    .describe('false when due-based sampling judged the pod from its last observation instead of sampling it (docs/contract.md 8.1); absent when sampled in this sweep.'),
  sampledAt: DateTimeSchema.optional().describe('With sampled false: when the pod was last sampled (the now of the sweep whose observation it was judged from).'),
});

export const SummarySchema = z
  .object({
    sampled: CountSchema,
    skipped: CountSchema,
    fromHistory: CountSchema.optional().describe(
      'Of sampled, the pods due-based sampling judged from their last observation without an exec (docs/contract.md 8.1); absent when due-based sampling is off.',
    ),
    healthy: CountSchema,
    stale: CountSchema,
    expiring: CountSchema,
    expired: CountSchema,
    missing: CountSchema,
    unreachable: CountSchema,
  })
  .meta({ id: 'summary', description: 'Pods sampled, skipped (injected but not Running), and sampled pods per state.' });

export const ThresholdsReportSchema = z.object({
  staleAfter: z.string().describe('As applied: a duration (36m) or a share of the leaf lifetime (60%).'),
  expiringWithin: z.string(),
  clockSkewAllowance: z
    .string()
    .optional()
    .describe('Allowance for a leaf notBefore in the future, as seconds (60s); beyond it the finding is not-yet-valid.'),
});

/** Rotation statistics of one source in one sweep. */
export const SourceRotationsReportSchema = z
  .object({
    observed: CountSchema.describe('Pods of this source whose leaf changed since their previous observation.'),
    compared: CountSchema.describe('Pods of this source compared with a previous observation.'),
    overdue: CountSchema.describe('Pods of this source past their expected renewal point.'),
    intervalSecondsP50: z.int().nullable().describe('Median notBefore(new) - notBefore(previous) of the rotations seen; null without one.'),
    intervalSecondsMax: z.int().nullable().describe('Largest such interval; null without one.'),
  })
  .meta({ id: 'sourceRotations' });

export const RotationsReportSchema = z
  .object({
    observed: CountSchema,
    compared: CountSchema,
    overdue: CountSchema,
    provenAcrossSweeps: CountSchema,
    bySource: z.object({
      tbot: SourceRotationsReportSchema.optional(),
      'istio-agent': SourceRotationsReportSchema.optional(),
      unknown: SourceRotationsReportSchema.optional(),
    }),
  })
  .describe(
    'Rotations seen since the previous sweep (rotation history): new leaves, pods compared, pods overdue, missed renewals proven across sweeps, and per source the observed rotation interval.',
  );

/** One tbot agent (one per node) in the report's `agents` section. */
export const AgentReportSchema = z.object({
  node: z.string(),
  pod: z.string(),
  namespace: z.string(),
  image: z.string().nullable(),
  version: z.string().nullable(),
  ready: z.boolean(),
  outdated: z.boolean().describe('The version has a known rotation bug (see tbot-outdated).'),
  upgradeTo: z.string().nullable().describe('The release to upgrade to when outdated, else null.'),
  podsServed: CountSchema.describe('Sampled pods this agent serves.'),
  podsUnhealthy: CountSchema.describe('Of those, the ones not healthy.'),
});

/**
 * The sweep report (docs/contract.md §4.1) as the engine holds it; `sweep --output json` adds
 * `remediation` (../events/schemas.ts, SweepJsonReportSchema).
 */
export const SweepReportSchema = z.object({
  cluster: NameSchema,
  sweepId: NameSchema,
  startedAt: DateTimeSchema,
  finishedAt: DateTimeSchema,
  now: DateTimeSchema.describe('The evaluation instant (--now, else the start).'),
  thresholds: ThresholdsReportSchema,
  summary: SummarySchema,
  partial: z.boolean().describe('True when a deadline (or a pod list that timed out) stopped sampling before every pod was seen.'),
  listError: z.string().optional().describe('Why listing stopped early (a list request that timed out); the pods listed before it were judged.'),
  rotations: RotationsReportSchema.optional(),
  pods: z.array(PodReportSchema).describe('In the order they were judged, not worst first.'),
  agents: z
    .array(AgentReportSchema)
    .optional()
    .describe('The tbot agents found (one per node), outdated first; absent when the sweep did not look for them.'),
  agentsError: z.string().optional().describe('Why the agents could not be listed (then agents is empty and no pod gets tbot-outdated).'),
});
