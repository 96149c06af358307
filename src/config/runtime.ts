/**
 * What each Lambda handler receives: one environment variable, `MESH_CERT_WATCH_CONFIG`,
 * holding JSON that the stack writes and the handler validates at cold start with
 * `parseRuntimeConfig(schema, process.env)`. The stack builds the JSON from the `*Input` types
 * below, so both sides compile against one contract.
 */
import * as z from 'zod';
import { ConfigError, describeError } from '../core/model/errors.js';
import { DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS, parseClockSkewAllowance, parseThreshold } from '../core/model/threshold.js';
import { DEFAULT_TBOT_AGENTS, LABEL_SELECTOR_PATTERN } from '../core/judgement/agents.js';
import { DEFAULT_RENEWAL_POLICY } from '../core/judgement/history.js';
import { DEFAULT_MAX_EXEC_STARTS_PER_SECOND, DEFAULT_MAX_OBSERVATION_AGE_SECONDS } from '../core/judgement/sampling-defaults.js';
import { STATES, type Threshold } from '../core/model/types.js';
import { configErrorFromIssues } from './issues.js';
import { CHANNEL_NAMES } from '../ports/notification.js';

export const RUNTIME_CONFIG_ENV = 'MESH_CERT_WATCH_CONFIG';

/**
 * States a remediation policy may name. `unreachable` and `missing` are excluded on purpose:
 * they mean no certificate could be read, and the contract (docs/contract.md §7) forbids restarting on missing data.
 */
export const RESTARTABLE_STATES = ['stale', 'expiring', 'expired'] as const;
export type RestartableState = (typeof RESTARTABLE_STATES)[number];

const nonEmpty = z.string().min(1, 'must not be empty');

/** `60%`, `36m`, `1h30m`: validated with the engine's own parser, delivered parsed. */
export const thresholdText = z.string().transform((text, context): Threshold => {
  try {
    return parseThreshold(text);
  } catch (error) {
    context.addIssue({ code: 'custom', message: describeError(error) });
    return z.NEVER;
  }
});

/** `0s`, `30s`, `1m`: the allowance for a notBefore in the future, delivered in seconds. */
export const clockSkewText = z.string().transform((text, context): number => {
  try {
    return parseClockSkewAllowance(text);
  } catch (error) {
    context.addIssue({ code: 'custom', message: describeError(error) });
    return z.NEVER;
  }
});

/** An AWS region name such as `eu-west-1` or `us-gov-west-1`. */
export const regionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as eu-west-1');

/** A Secrets Manager secret: its name, or its complete ARN (with the 6-character suffix). */
export const secretId = z
  .string()
  .min(1, 'must not be empty')
  .refine(
    (value) => !value.startsWith('arn:') || /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(value),
    'an ARN must be the complete secret ARN ending in the 6-character suffix (or give the secret name instead)',
  );

/** A Kubernetes label selector (`app=tbot`, `app.kubernetes.io/name in (tbot)`): checked for shape, the API server judges the rest. */
export const labelSelectorText = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .regex(LABEL_SELECTOR_PATTERN, 'must be a Kubernetes label selector such as app=tbot');

/** Where the tbot agents run (one agent pod per node). */
export const tbotAgentsSchema = z.object({
  /** @default teleport-system */
  namespace: nonEmpty.default(DEFAULT_TBOT_AGENTS.namespace),
  /** @default app=tbot */
  labelSelector: labelSelectorText.default(DEFAULT_TBOT_AGENTS.labelSelector),
});

const runtimeCluster = z.object({
  name: nonEmpty,
  region: regionName,
  /** Where the tbot agents run. @default teleport-system, app=tbot */
  tbot: tbotAgentsSchema.prefault({}),
});

/**
 * How each source renews (docs/contract.md §8), in seconds and ratios. Defaults: tbot's
 * `renewal_interval` 20 min, the Istio agent's grace ratio 0.5 and jitter 0.01, a 3 min slack.
 */
export const renewalPolicyConfig = z.object({
  tbotRenewalIntervalSeconds: z.int().min(1).default(DEFAULT_RENEWAL_POLICY.tbotRenewalIntervalSeconds),
  istioAgentGraceRatio: z.number().gt(0).lt(1).default(DEFAULT_RENEWAL_POLICY.istioAgentGraceRatio),
  istioAgentGraceJitter: z.number().min(0).lt(0.5).default(DEFAULT_RENEWAL_POLICY.istioAgentGraceJitter),
  slackSeconds: z.int().min(0).default(DEFAULT_RENEWAL_POLICY.slackSeconds),
});

export const samplerRuntimeConfig = z.object({
  eventBusName: nonEmpty,
  ledgerTableName: nonEmpty,
  /**
   * S3 bucket of the rotation history (one snapshot object per cluster per sweep). The stack
   * always sets it; without it the sampler judges each sweep alone (no `rotation` fields).
   */
  historyBucketName: nonEmpty.optional(),
  clusters: z
    .array(
      runtimeCluster.extend({
        namespaces: z.object({ include: z.array(nonEmpty), exclude: z.array(nonEmpty) }),
        thresholds: z
          .object({
            staleAfter: thresholdText,
            expiringWithin: thresholdText,
            /** Allowance for a leaf notBefore in the future. @default '60s' */
            clockSkewAllowance: clockSkewText.optional(),
          })
          .transform(({ clockSkewAllowance, ...thresholds }) => ({
            ...thresholds,
            clockSkewAllowanceSeconds: clockSkewAllowance ?? DEFAULT_CLOCK_SKEW_ALLOWANCE_SECONDS,
          })),
        /** Pods sampled at once. */
        concurrency: z.int().min(1),
        /** Budget for one pod's exec + dump. */
        sampleTimeoutSeconds: z.int().min(1),
        /** Exec streams started per second at most (evenly spaced); 0 = unlimited. @default 50 */
        maxExecStartsPerSecond: z.int().min(0).default(DEFAULT_MAX_EXEC_STARTS_PER_SECOND),
        /** Expected renewal point per source (used with the rotation history). */
        rotation: renewalPolicyConfig.prefault({}),
        /**
         * Due-based sampling with the rotation history (docs/contract.md §8.1): a pod not otherwise
         * due is sampled once its last observation is this old; 0 = every pod every sweep.
         * @default 1200 (20 min)
         */
        sampling: z
          .object({ maxObservationAgeSeconds: z.int().min(0).default(DEFAULT_MAX_OBSERVATION_AGE_SECONDS) })
          .prefault({}),
      }),
    )
    .min(1),
  /** Stop starting new samples this long before the Lambda timeout; the sweep is then `partial`. */
  sweepDeadlineMarginSeconds: z.int().min(0),
  dashboardUrl: z.url().optional(),
});

export const remediatorRuntimeConfig = z.object({
  eventBusName: nonEmpty,
  budgetTableName: nonEmpty,
  policy: z.object({
    /** Only these states trigger a restart (never `missing` / `unreachable`). */
    restartStates: z.array(z.enum(RESTARTABLE_STATES)).min(1),
    /** Skip a workload restarted (kubectl.kubernetes.io/restartedAt) less than this ago. */
    cooldownMinutes: z.number().min(0),
    /** Restarts per cluster per rolling hour, shared by concurrent invocations. */
    budgetPerHour: z.int().min(0),
    /** Stop restarting when more than this share of a cluster's sampled pods is unhealthy. */
    breakerUnhealthyShare: z.number().gt(0).max(1),
    /** Publish `dry-run` outcomes instead of patching anything. */
    dryRun: z.boolean(),
    /** Delete bare (controller-less) pods that opted in; otherwise they are only reported. */
    deleteBarePods: z.boolean(),
    /** Act at `stale` when the diagnosis is definite (rotation proven stopped across sweeps, or pushes stopped with workload-certs evidence). @default true */
    actOnProvenStale: z.boolean().default(true),
    /** Restart the node's tbot agent for tbot-side diagnoses instead of the workloads. @default true */
    agentRestarts: z.boolean().default(true),
  }),
  clusters: z.array(runtimeCluster).min(1),
});

/** One destination of the notifier (deployment config `notifications.destinations`, defaults applied). */
export const notifierDestination = z.object({
  channel: z.enum(CHANNEL_NAMES),
  /** Secrets Manager secret (name or complete ARN) of the credential: a Slack webhook URL, a PagerDuty routing key. */
  secretId,
  /** Only these namespaces' events; absent: every namespace no other destination of the channel lists, and cluster-wide news. */
  namespaces: z.array(nonEmpty).min(1).optional(),
  /**
   * Send a `Pod Certificate State Changed` event only when its state or previous state is at
   * least this severe (STATE_SEVERITY); `Workload Restart` and failed sweeps always go.
   */
  minimumSeverity: z.enum(STATES),
  /** PagerDuty: the states that open an incident. @default ['expired'] */
  incidentStates: z.array(z.enum(STATES)).min(1).optional(),
});

export const notifierRuntimeConfig = z.object({
  destinations: z.array(notifierDestination).min(1),
  dashboardUrl: z.url(),
  /** Slack allows about one message per second per webhook (PagerDuty's events have their own spacing). */
  maxMessagesPerSecond: z.number().gt(0),
  /**
   * Table of delivered notifications (so a retried batch is not posted twice) and of the
   * per-webhook rate gate (`pk`/`sk`, TTL `expiresAt`).
   */
  deliveryTableName: nonEmpty,
  /**
   * How long a claimed, not yet posted notification blocks other attempts: longer than one
   * invocation, shorter than the queue's visibility timeout. @default 120
   */
  deliveryLeaseSeconds: z.int().min(1).default(120),
  /** How long a secret (webhook URL, routing key) read from Secrets Manager is reused. @default 300 */
  secretCacheSeconds: z.int().min(0).default(300),
});

export type SamplerRuntimeConfig = z.output<typeof samplerRuntimeConfig>;
export type SamplerRuntimeConfigInput = z.input<typeof samplerRuntimeConfig>;
export type RemediatorRuntimeConfig = z.output<typeof remediatorRuntimeConfig>;
export type RemediatorRuntimeConfigInput = z.input<typeof remediatorRuntimeConfig>;
export type NotifierRuntimeConfig = z.output<typeof notifierRuntimeConfig>;
export type NotifierRuntimeConfigInput = z.input<typeof notifierRuntimeConfig>;

/**
 * Reads and validates `MESH_CERT_WATCH_CONFIG` from `env`. Throws a ConfigError naming the exact
 * setting, e.g. `MESH_CERT_WATCH_CONFIG.clusters[0].region: Required`.
 */
export function parseRuntimeConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Readonly<Record<string, string | undefined>>,
): z.output<Schema> {
  const text = env[RUNTIME_CONFIG_ENV];
  if (text === undefined || text.trim() === '') {
    throw new ConfigError(RUNTIME_CONFIG_ENV, 'not set (the CDK stack sets it on every function)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(RUNTIME_CONFIG_ENV, `not valid JSON: ${describeError(error)}`, { cause: error });
  }
  const result = schema.safeParse(raw, { reportInput: true });
  if (!result.success) throw configErrorFromIssues(result.error.issues, { root: RUNTIME_CONFIG_ENV, schema });
  return result.data;
}
