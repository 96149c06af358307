/**
 * The EventBridge contract (docs/contract.md §5) as zod schemas: ONE schema per detail-type, plus
 * the JSON report of `sweep --output json` (§4.1). This is the single source:
 * - the detail types in ./events.ts are inferred from these schemas;
 * - the remediator and the notifier parse the events they receive with them (./parse.ts);
 * - the JSON Schemas in src/events/schemas/ and those published to the EventBridge schema
 *   registry are generated from them (src/events/json-schemas.ts, `npm run schemas`; a test fails
 *   when the committed or synthesized ones differ).
 *
 * Objects are open: a consumer ignores fields it does not know (the contract changes by addition),
 * and the generated JSON Schemas do not forbid them.
 */
import * as z from 'zod';
import {
  AGENT_PODS_LIMIT,
  AGENT_RESTART,
  PRESENT_CHANGES,
  POD_CERTIFICATE_STATE_CHANGED,
  POD_CERTIFICATE_UNHEALTHY,
  POLICY_SOURCES,
  RESTART_ACTIONS,
  RESTART_OUTCOMES,
  SWEEP_COMPLETED,
  WORKLOAD_POLICIES,
  WORKLOAD_RESTART,
  type DetailType,
} from './events.js';
import {
  CountSchema,
  DateTimeSchema,
  FindingSchema,
  FindingsSchema,
  NameSchema,
  NullableDateTimeSchema,
  NullableWorkloadRefSchema,
  PodIdentityShape,
  PodReportSchema,
  RotationsReportSchema,
  StateSchema,
  SummarySchema,
  SweepReportSchema,
  ThresholdsReportSchema,
  WorkloadRefSchema,
} from '../model/schemas.js';

const TruncatedSchema = z
  .literal(true)
  .optional()
  .meta({ id: 'truncated', description: 'Present (true) only when the detail was trimmed to fit the EventBridge entry limit.' });

/** Where and when a pod was observed: every pod event starts with these. */
const PodEventHead = {
  cluster: NameSchema,
  sweepId: NameSchema,
  observedAt: DateTimeSchema.describe("The sweep's evaluation instant the state refers to."),
} as const;

/** The per-pod object of the sweep report, plus where and when it was observed. */
export const PodEventDetailSchema = z.object({ ...PodEventHead, ...PodReportSchema.shape, truncated: TruncatedSchema });

/** One pod served by a tbot agent, as `Pod Certificate Unhealthy.agentPods` lists it. */
export const AgentPodRefSchema = z.object({ namespace: NameSchema, name: NameSchema, state: StateSchema, findings: FindingsSchema });

export const PodUnhealthyDetailSchema = z
  .object({
    ...PodEventDetailSchema.shape,
    sweepSummary: SummarySchema.describe(
      "The summary of the sweep that observed the pod (as in Sweep Completed): the remediator's breaker compares unhealthy to sampled pods.",
    ),
    agentPods: z
      .array(AgentPodRefSchema)
      .max(AGENT_PODS_LIMIT)
      .optional()
      .describe(
        'Present when a tbot agent serves the pod: every pod of this sweep that is not healthy and is served by the same agent (same node and agent pod), this one included, at most 100. What a restart of that agent would fix; the remediator lists them in Agent Restart.pods.',
      ),
    agentPodsTotal: z.number().int().min(0).optional().describe('How many pods agentPods would list without its limit.'),
  })
  .meta({
    title: POD_CERTIFICATE_UNHEALTHY,
    description:
      "detail of source mesh-cert-watch, detail-type 'Pod Certificate Unhealthy': emitted on every sweep for each pod that is not healthy or has a finding (level-triggered). The per-pod object of the sweep report plus cluster, sweepId, observedAt and sweepSummary (the counts of the sweep that observed it, read by the remediator's breaker).",
  });

const ChangeShape = {
  previousFindings: FindingsSchema,
  previousObservedAt: NullableDateTimeSchema.describe('When the previous state was first observed; null for a first sighting.'),
} as const;

export const PodPresentChangeDetailSchema = z
  .object({
    ...PodEventDetailSchema.shape,
    ...ChangeShape,
    previousState: StateSchema.nullable().describe('null for a pod seen for the first time.'),
    change: z.enum(PRESENT_CHANGES),
  })
  .meta({ id: 'presentPod', description: 'A pod that is still sampled: the full per-pod object.' });

export const PodGoneDetailSchema = z
  .object({
    ...PodEventHead,
    ...PodIdentityShape,
    workload: NullableWorkloadRefSchema,
    truncated: TruncatedSchema,
    ...ChangeShape,
    state: z.null(),
    findings: z.array(FindingSchema).max(0).describe('Always empty: there is no current observation.'),
    previousState: StateSchema,
    change: z.literal('gone'),
  })
  .meta({
    id: 'gonePod',
    description: 'The pod is no longer among the sampled pods (deleted or no longer Running). Only what the ledger knew is included.',
  });

export const PodStateChangedDetailSchema = z.discriminatedUnion('change', [PodPresentChangeDetailSchema, PodGoneDetailSchema]).meta({
  title: POD_CERTIFICATE_STATE_CHANGED,
  description:
    "detail of detail-type 'Pod Certificate State Changed': a pod's state or findings changed since the last sweep. change: opened | worsened | improved | resolved (now healthy without findings) | gone (pod no longer sampled; state is null).",
});

export const SweepErrorItemSchema = z.object({
  namespace: z.string().nullable().describe('null for errors not tied to a namespace (e.g. the cluster was unreachable).'),
  name: z.string().nullable().describe('null for errors not tied to one pod (e.g. listing a namespace failed).'),
  error: z.string(),
});

export const SweepCompletedDetailSchema = z
  .object({
    cluster: NameSchema,
    sweepId: NameSchema,
    startedAt: DateTimeSchema,
    finishedAt: DateTimeSchema,
    durationMs: CountSchema,
    partial: z.boolean().describe('True when the deadline cut the sweep short.'),
    failed: z.boolean().describe('True when the sweep could not run to the end for another reason (cluster unreachable, listing failed).'),
    summary: SummarySchema,
    thresholds: ThresholdsReportSchema.nullable(),
    errors: z
      .array(SweepErrorItemSchema)
      .describe(
        'Sweep-level errors first (namespace/name null when not tied to one), then per-pod sampling errors; trimmed to fit, errorsTotal counts all.',
      ),
    errorsTotal: CountSchema,
    eventsPublished: CountSchema.optional().describe('Pod events of this sweep that were published.'),
    eventsFailed: CountSchema.optional().describe('Pod events of this sweep that could not be published.'),
    rotations: RotationsReportSchema.optional().describe(
      'Rotations seen since the previous sweep (rotation history): new leaves, pods compared, pods overdue, missed renewals proven across sweeps, and per source the observed rotation interval. Absent for a failed sweep.',
    ),
    truncated: TruncatedSchema,
  })
  .meta({
    title: SWEEP_COMPLETED,
    description: "detail of detail-type 'Sweep Completed': end of every sweep, including one that could not run (failed: true).",
  });

export const RestartOutcomeSchema = z.enum(RESTART_OUTCOMES);

const BreakerSchema = z
  .object({
    unhealthy: CountSchema,
    sampled: CountSchema,
    share: z.number().min(0).max(1).describe('unhealthy / sampled, rounded to 3 decimals.'),
    threshold: z.number(),
  })
  .meta({ id: 'breaker', description: 'Not-healthy share of the triggering sweep, against breakerUnhealthyShare.' });

const BudgetSchema = z
  .object({
    window: z
      .string()
      .describe(
        'The sliding 60-minute window the decision counted against, as an ISO 8601 interval start/end (seconds), e.g. 2030-03-01T11:34:56Z/2030-03-01T12:34:56Z',
      ),
    limit: CountSchema,
    used: CountSchema.optional(),
  })
  .meta({ id: 'budget', description: "The cluster's restarts in the 60 minutes up to this decision (budget and restarted)." });

/** Fields both remediator outcomes carry besides the contract's (optional: an older remediator may not send them). */
const OutcomeExtras = {
  message: z.string().optional().describe('One sentence: what was done or why not; for failed, the API error.'),
  dryRun: z.boolean().optional().describe('The remediator ran in dry-run: nothing in the cluster was changed.'),
} as const;

const OutcomeGuardExtras = {
  cooldownUntil: DateTimeSchema.optional(),
  breaker: BreakerSchema.optional(),
  budget: BudgetSchema.optional(),
  statusCode: z.int().optional().describe('failed with an answer from the Kubernetes API: its HTTP status (403, 409, 422...).'),
  truncated: TruncatedSchema,
} as const;

export const WorkloadRestartDetailSchema = z
  .object({
    cluster: NameSchema,
    namespace: NameSchema,
    workload: WorkloadRefSchema,
    outcome: RestartOutcomeSchema,
    reason: NameSchema.describe(
      'restarted / dry-run: the pod state that triggered it (expiring, expired, stale). skipped: not-restartable, opted-out, gone, stale-event, breaker, bare-pod, unsupported-workload, restart-did-not-fix, paused, rolling, on-delete, cooldown, budget. failed: api-error (Kubernetes API), guard-error (restart lease/budget store).',
    ),
    pods: z
      .array(z.object({ name: NameSchema, state: StateSchema, findings: FindingsSchema.optional() }))
      .describe('Pods that triggered it, with their states.'),
    triggeredBy: NameSchema.describe('sweepId of the triggering sweep.'),
    at: DateTimeSchema,
    ...OutcomeExtras,
    action: z
      .enum(RESTART_ACTIONS)
      .nullable()
      .optional()
      .describe('What was (dry-run: would have been) done; null when skipped before an action was chosen, or failed reading.'),
    podUid: NameSchema.optional().describe('uid of the pod whose event triggered this.'),
    policy: z.enum(WORKLOAD_POLICIES).optional().describe('Effective mesh-cert-watch.io/policy. Notifiers may stay silent for ignore.'),
    policySource: z.enum(POLICY_SOURCES).optional(),
    restartedAt: DateTimeSchema.optional().describe(
      'Rollout restarts (restarted, dry-run): the kubectl.kubernetes.io/restartedAt (Argo: spec.restartAt) value written.',
    ),
    lastRestartAt: DateTimeSchema.optional().describe('The previous restart behind cooldown, stale-event or restart-did-not-fix.'),
    verification: z
      .literal('not-fixed')
      .optional()
      .describe('Set with reason restart-did-not-fix: a pod created by our last restart still serves an old certificate.'),
    agentRestartAt: DateTimeSchema.optional().describe(
      "Set on a fallback: the node's tbot agent was restarted at this instant and the pod still served a leaf issued before it, so its workload is restarted instead.",
    ),
    ...OutcomeGuardExtras,
  })
  .meta({ title: WORKLOAD_RESTART, description: "detail of detail-type 'Workload Restart': outcome of the remediator for one workload." });

export const AgentRestartDetailSchema = z
  .object({
    cluster: NameSchema,
    node: NameSchema.describe('The node whose tbot agent it is.'),
    agentPod: z.string().nullable().describe('The agent pod restarted (or that would be); null when none was found.'),
    namespace: NameSchema.describe('The tbot namespace (clusters[].tbot.namespace).'),
    version: z.string().nullable().optional().describe("tbot version from the agent's image tag; null when unknown."),
    upgradeAdvice: z
      .string()
      .nullable()
      .optional()
      .describe("'upgrade tbot on node X (18.5.0 → 18.6.4)' when the version has a known rotation bug, else null."),
    upgradeTo: z.string().nullable().optional(),
    outcome: RestartOutcomeSchema,
    reason: NameSchema.describe(
      'restarted / dry-run: the pod state that triggered it. skipped: breaker, stale-event (observed before our last restart of this agent: the next sweep verifies it), rolling (the DaemonSet is rolling out), agent-not-ready (the agent, or another agent\'s replacement, is not Ready), cooldown (this agent was restarted within the cooldown, or a duplicate holds its lease), agent-busy (another agent of the cluster is being restarted: one at a time), budget. failed: api-error, guard-error.',
    ),
    pods: z
      .array(z.object({ namespace: NameSchema, name: NameSchema, state: StateSchema, findings: FindingsSchema.optional() }))
      .describe(
        "The pods affected: every pod the triggering sweep found not healthy that this agent serves (the event's agentPods), the triggering pod first; only the triggering pod for an event without agentPods.",
      ),
    podsTotal: z.number().int().min(0).optional().describe('How many pods were affected, when pods lists only the first 100.'),
    triggeredBy: NameSchema.describe('sweepId of the triggering sweep.'),
    at: DateTimeSchema,
    ...OutcomeExtras,
    lastRestartAt: DateTimeSchema.optional().describe(
      'Our previous restart of this agent (stale-event, or a repeated restart one certificate lifetime later).',
    ),
    ...OutcomeGuardExtras,
  })
  .meta({
    title: AGENT_RESTART,
    description:
      "detail of detail-type 'Agent Restart': outcome of the remediator's node-aware path for one node's tbot agent (docs/contract.md §7.1). Restarting the agent (deleting its pod; the DaemonSet recreates it) makes every Envoy on the node reconnect and get a fresh SVID without restarting an application pod.",
  });

/** The schema of each detail-type's `detail`. */
export const DETAIL_SCHEMAS = {
  [POD_CERTIFICATE_UNHEALTHY]: PodUnhealthyDetailSchema,
  [POD_CERTIFICATE_STATE_CHANGED]: PodStateChangedDetailSchema,
  [SWEEP_COMPLETED]: SweepCompletedDetailSchema,
  [WORKLOAD_RESTART]: WorkloadRestartDetailSchema,
  [AGENT_RESTART]: AgentRestartDetailSchema,
} as const satisfies Record<DetailType, z.ZodType>;

/** `mesh-cert-watch sweep --output json` (docs/contract.md §4.1): the sweep report plus `remediation` with `--remediate`. */
export const SweepJsonReportSchema = SweepReportSchema.extend({
  remediation: z
    .object({
      dryRun: z.boolean(),
      outcomes: z.array(WorkloadRestartDetailSchema).describe('The Workload Restart details, one per workload acted on or skipped.'),
      agentRestarts: z.array(AgentRestartDetailSchema).describe('The Agent Restart details of the node-aware path.'),
    })
    .optional()
    .describe('With --remediate: what the remediation did (or would do, with --dry-run).'),
}).meta({
  title: 'mesh-cert-watch sweep report',
  description:
    'The JSON report of `mesh-cert-watch sweep --output json` (docs/contract.md §4.1). Streamed: keys come in the order cluster, sweepId, startedAt, now, thresholds, pods, finishedAt, summary, partial, rotations, agents, agentsError, remediation.',
});
