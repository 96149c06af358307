/**
 * The deployment configuration: one typed, validated document (JSON, or a TS/JS module whose
 * default export is the object) named by `cdk synth -c config=FILE` or by the `config` context
 * key in cdk.json. Every default lives in this schema; `parseDeploymentConfig` returns the
 * complete, resolved configuration or throws a ConfigError naming the exact setting, e.g.
 * `clusters[1].schedule.rateMinutes: Too small: expected number to be >=1`.
 */
import * as z from 'zod';
import { parseThreshold } from '../core/model/threshold.js';
import { STATES, type State } from '../core/model/types.js';
import { CHANNEL_NAMES, type ChannelName } from '../ports/notification.js';
import { configErrorFromIssues } from './issues.js';
import { DEFAULT_TBOT_AGENTS } from '../core/judgement/agents.js';
import { DEFAULT_MAX_EXEC_STARTS_PER_SECOND } from '../core/judgement/sampling-defaults.js';
import { clockSkewText, labelSelectorText, regionName, RESTARTABLE_STATES, secretId, thresholdText } from './runtime.js';

/** CloudWatch Logs retention values, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const LAMBDA_RUNTIMES = ['nodejs22.x', 'nodejs24.x'] as const;

/** EKS cluster names: 1-100 characters, alphanumeric first, then alphanumerics, `-` and `_`. */
const clusterName = z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'must be an EKS cluster name (1-100 of A-Z a-z 0-9 - _, starting with a letter or digit)');

/** Kubernetes namespace names (RFC 1123 labels). */
const namespaceName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name (RFC 1123 label)');

/**
 * One notification destination. `secret` is a Secrets Manager secret (name or complete ARN) you
 * create: for Slack the incoming-webhook URL, for PagerDuty the Events API v2 integration
 * (routing) key of the service.
 */
const destinationSchema = z.strictObject({
  channel: z.enum(CHANNEL_NAMES),
  secret: secretId,
  /** Only these namespaces' events (and they go to no catch-all destination of the same channel). @default every other namespace */
  namespaces: z.array(namespaceName).min(1).optional(),
  /** A state change is sent when its state or previous state is at least this severe. @default notifications.minimumSeverity */
  minSeverity: z.enum(STATES).optional(),
  /** PagerDuty only: open incidents at `expiring` too, not only at `expired`. @default false */
  triggerOnExpiring: z.boolean().optional(),
});

/** The longest `sampling.maxObservationAge` accepted. */
const MAX_OBSERVATION_AGE_SECONDS = 24 * 3600;

/** Seconds of a duration setting, or null when it is not one (its own issue names it). */
function durationSecondsOrNull(text: string): number | null {
  try {
    const threshold = parseThreshold(text);
    return threshold.kind === 'duration' ? threshold.seconds : null;
  } catch {
    return null;
  }
}

/** A whole number of seconds written as a duration (`1h`, `90m`): thresholds accept only these or `%`. */
const durationText = z.string().refine((text) => {
  try {
    return parseThreshold(text).kind === 'duration';
  } catch {
    return false;
  }
}, 'must be a duration such as 1h, 90m or 24h');

const scheduleSchema = z.strictObject({
  /** Minutes between two sweeps of this cluster. @default 5 */
  rateMinutes: z.int().min(1).max(60).default(5),
  /** EventBridge Scheduler retries when the invoke itself fails; kept low, the next sweep comes soon. @default 1 */
  retryAttempts: z.int().min(0).max(3).default(1),
});

const clusterSchema = z.strictObject({
  /** The existing EKS cluster's name. */
  name: clusterName,
  /** Where the cluster runs. @default the deployment `region` */
  region: regionName.optional(),
  schedule: scheduleSchema.prefault({}),
  /** Namespaces to sample; empty `include` means all. `exclude` wins. */
  namespaces: z
    .strictObject({
      include: z.array(namespaceName).default([]),
      exclude: z.array(namespaceName).default([]),
    })
    .prefault({}),
  /** As the CLI's `--stale-after` / `--expiring-within`. */
  thresholds: z
    .strictObject({
      staleAfter: z.string().default('60%').pipe(thresholdText),
      expiringWithin: z.string().default('20%').pipe(thresholdText),
      /**
       * As the CLI's `--clock-skew-allowance`: a leaf whose notBefore is further in the future
       * than this is `not-yet-valid` (docs/contract.md §3). @default '1m'
       */
      clockSkewAllowance: z.string().default('1m').pipe(clockSkewText),
    })
    .prefault({}),
  /**
   * Expected renewal point per SDS source, judged with the rotation history (docs/contract.md §8):
   * a leaf still unchanged `slack` past it is `stale`.
   */
  rotation: z
    .strictObject({
      /** tbot's `renewal_interval`. @default '20m' */
      renewalInterval: z.string().default('20m').pipe(durationText),
      /** The Istio agent's SECRET_GRACE_PERIOD_RATIO. @default 0.5 */
      istioAgentGraceRatio: z.number().gt(0).lt(1).default(0.5),
      /** The Istio agent's SECRET_GRACE_PERIOD_RATIO_JITTER. @default 0.01 */
      istioAgentGraceJitter: z.number().min(0).lt(0.5).default(0.01),
      /** Allowance past the expected point (issuance latency, backdated notBefore, clock skew). @default '3m' */
      slack: z.string().default('3m').pipe(durationText),
    })
    .prefault({}),
  /**
   * Due-based sampling with the rotation history (docs/contract.md §8.1): a sweep execs into a pod
   * only when it is due (new, not healthy last time, at or past the point where its leaf's verdict
   * may change, or observed `maxObservationAge` ago); the others are judged from their last
   * observation. Never detects a leaf that stops rotating or expires later than sampling every pod.
   */
  sampling: z
    .strictObject({
      /** Sample only the pods that are due; false: every pod every sweep. @default true */
      dueBased: z.boolean().default(true),
      /**
       * A pod not otherwise due is sampled once its last observation is this old: the bound on how
       * late a change its leaf cannot predict (sidecar lost its secret, trust bundle replaced) is
       * seen. At least `schedule.rateMinutes`. @default '20m' (tbot's renewal interval: every tbot
       * leaf is seen once; four sweeps at the default schedule)
       */
      maxObservationAge: z.string().default('20m').pipe(durationText),
    })
    .prefault({}),
  /** Workload certificate TTL, drawn on the dashboard next to leaf age and thresholds. @default '1h' */
  certificateTtl: z.string().default('1h').pipe(durationText),
  /** Pods sampled at once (16 keeps 1,000 pods at 100 ms exec latency to ≈ 8 s). @default 16 */
  concurrency: z.int().min(1).max(64).default(16),
  /**
   * Exec streams the sampler starts per second at most in this cluster, evenly spaced: the
   * cluster's exec budget. Exec streams bypass API Priority and Fairness, so the API server never
   * slows them down; raise it where the control plane and nodes have headroom. Per sweep at most
   * this × the sampling window execs: the cluster's ceiling ("Scale and sizing" in README.md).
   * @default 50
   */
  maxExecStartsPerSecond: z.int().min(1).max(1000).default(DEFAULT_MAX_EXEC_STARTS_PER_SECOND),
  /** Time allowed for one pod's exec + config_dump. @default 15 */
  sampleTimeoutSeconds: z.int().min(1).max(120).default(15),
  /**
   * Create the EKS access entries mapping the sampler and remediator roles to their Kubernetes
   * groups. The cluster must be in the stack's region with authentication mode API or
   * API_AND_CONFIG_MAP; set false to create them yourself. @default true
   */
  accessEntries: z.boolean().default(true),
  /**
   * Where the tbot agents run (a DaemonSet: one agent pod per node). The sampler maps each
   * tbot-served pod to its node's agent and reads the agent's version from its image; the
   * remediator may delete agent pods in this namespace only (a Role, not a ClusterRole).
   */
  tbot: z
    .strictObject({
      namespace: namespaceName.default(DEFAULT_TBOT_AGENTS.namespace),
      labelSelector: labelSelectorText.default(DEFAULT_TBOT_AGENTS.labelSelector),
    })
    .prefault({}),
});

const functionSizing = (timeoutSeconds: number, memoryMiB: number) =>
  z.strictObject({
    timeoutSeconds: z.int().min(3).max(900).default(timeoutSeconds),
    memoryMiB: z.int().min(128).max(10240).default(memoryMiB),
    /**
     * Reserved concurrency: a cap that protects the clusters and Slack (and a floor the rest of
     * the account cannot take). `false` reserves nothing (accounts with a concurrency quota of 10
     * cannot reserve any). @default see `reservedConcurrency()`
     */
    reservedConcurrency: z.union([z.int().min(1).max(1000), z.literal(false)]).optional(),
  });

const vpcSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-...)'),
  /** Private subnets with a route to the EKS API endpoint and to AWS APIs (VPC endpoints or NAT). */
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-...)')).min(1).max(16),
  /** Must be allowed by the cluster security group on 443. */
  securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-...)')).min(1).max(5),
});

const alarmTopicSchema = z
  .strictObject({
    /** Create an SNS topic (KMS-encrypted) for the alarms. */
    create: z.boolean().default(false),
    /** Email addresses subscribed to the created topic (each must confirm). */
    emailSubscriptions: z.array(z.email()).default([]),
    /** Send alarms to this existing topic instead. */
    existingTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
      .optional(),
  })
  .superRefine((topic, context) => {
    if (topic.create === (topic.existingTopicArn !== undefined)) {
      context.addIssue({ code: 'custom', path: ['create'], message: 'set either create: true or existingTopicArn (not both)' });
    }
    if (!topic.create && topic.emailSubscriptions.length > 0) {
      context.addIssue({ code: 'custom', path: ['emailSubscriptions'], message: 'only for a topic the stack creates (create: true)' });
    }
  });

export const deploymentConfigSchema = z
  .strictObject({
    /** Lets editors validate the file against a JSON schema; ignored. */
    $schema: z.string().optional(),
    /** Stack name and prefix of every named resource; distinct per deployment in an account. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2-32 of a-z 0-9 -, starting with a letter')
      .default('mesh-cert-watch'),
    /** Target account. @default the account of the deploying credentials (no lookup at synth) */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
    /** Target region. Required: the synth is offline and never asks AWS. */
    region: regionName,
    clusters: z.array(clusterSchema).min(1, 'at least one cluster is required').max(20),
    /** Run the sampler and remediator in these subnets (private EKS API endpoints). @default not in a VPC */
    vpc: vpcSchema.optional(),
    functions: z
      .strictObject({
        runtime: z.enum(LAMBDA_RUNTIMES).default('nodejs22.x'),
        logRetentionDays: z
          .int()
          .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
          .default(30),
        sampler: functionSizing(240, 512)
          .extend({
            /** Stop sampling this long before the timeout so the sweep can still report. @default 20 */
            sweepDeadlineMarginSeconds: z.int().min(5).max(300).default(20),
          })
          .prefault({}),
        remediator: functionSizing(60, 256).prefault({}),
        notifier: functionSizing(30, 256).prefault({}),
      })
      .prefault({}),
    remediation: z
      .strictObject({
        restartStates: z.array(z.enum(RESTARTABLE_STATES)).min(1).default(['expiring', 'expired']),
        cooldownMinutes: z.number().min(0).max(1440).default(15),
        budgetPerHour: z.int().min(0).max(1000).default(5),
        breakerUnhealthyShare: z.number().gt(0).max(1).default(0.5),
        /** Start in dry-run: outcomes are reported, nothing is patched, until you turn it off. @default true */
        dryRun: z.boolean().default(true),
        deleteBarePods: z.boolean().default(false),
        /**
         * Act at `stale` when the failure is definite: rotation proven stopped across sweeps, or
         * pushes stopped while the agent serves `workload-certs` files. @default true
         */
        actOnProvenStale: z.boolean().default(true),
        /** Restart the node's tbot agent (not the workloads) for tbot-side diagnoses. @default true */
        agentRestarts: z.boolean().default(true),
      })
      .prefault({}),
    notifications: z
      .strictObject({
        /**
         * Where notifications go: Slack webhooks and PagerDuty services (docs: README "Notifications").
         * Per channel, a destination with `namespaces` takes those namespaces' events; the others
         * (no `namespaces`) take every other namespace's events and cluster-wide news (failed sweeps).
         */
        destinations: z.array(destinationSchema).default([]),
        /** Shorthand for a Slack destination without `namespaces` (the form before destinations). */
        slackWebhookSecret: secretId.optional(),
        /** Shorthand for Slack destinations with one namespace each. @default {} */
        namespaceSlackWebhookSecrets: z.record(namespaceName, secretId).default({}),
        /** KMS key that encrypts those secrets, when not the AWS-managed `aws/secretsmanager`. */
        secretsKmsKeyArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'must be a KMS key ARN (arn:...:key/<uuid>)')
          .optional(),
        /** The default of each destination's `minSeverity`. @default stale */
        minimumSeverity: z.enum(STATES).default('stale'),
        /** Slack messages per second per webhook. @default 1 */
        maxMessagesPerSecond: z.number().gt(0).max(10).default(1),
        /** SQS batching window in front of the notifier. @default 20 */
        batchWindowSeconds: z.int().min(0).max(300).default(20),
      })
      .superRefine((notifications, context) => {
        if (notifications.destinations.length === 0 && notifications.slackWebhookSecret === undefined) {
          context.addIssue({
            code: 'custom',
            path: ['destinations'],
            message: 'no destination: add one (e.g. [{ "channel": "slack", "secret": "mesh-cert-watch/slack-webhook" }]) or set notifications.slackWebhookSecret',
          });
        }
        if (notifications.slackWebhookSecret === undefined && Object.keys(notifications.namespaceSlackWebhookSecrets).length > 0) {
          context.addIssue({
            code: 'custom',
            path: ['namespaceSlackWebhookSecrets'],
            message: 'needs notifications.slackWebhookSecret (the webhook for the other namespaces); or write them as destinations with "namespaces"',
          });
        }
        const seen = new Map<string, number>();
        notifications.destinations.forEach((destination, index) => {
          const id = `${destination.channel}:${destination.secret}`;
          const first = seen.get(id);
          if (first !== undefined) context.addIssue({ code: 'custom', path: ['destinations', index, 'secret'], message: `duplicate of destinations[${first}] (same channel and secret)` });
          else seen.set(id, index);
          if (destination.triggerOnExpiring !== undefined && destination.channel !== 'pagerduty') {
            context.addIssue({ code: 'custom', path: ['destinations', index, 'triggerOnExpiring'], message: 'only PagerDuty destinations open incidents' });
          }
        });
      }),
    alarms: z
      .strictObject({
        /** Alarm when more than this share of sampled pods failed sampling. @default 0.2 */
        samplingErrorShare: z.number().gt(0).lt(1).default(0.2),
        /** Alarm when this many sweep intervals pass without a `Sweep Completed`. @default 3 */
        missedSweeps: z.int().min(2).max(24).default(3),
        /** Where alarm state changes go. @default none (the dashboard shows them) */
        topic: alarmTopicSchema.optional(),
      })
      .prefault({}),
    /** The rotation-history bucket (one snapshot object per cluster per sweep). */
    history: z
      .strictObject({
        /** Snapshots older than this are deleted by the bucket's lifecycle rule. @default 7 */
        retentionDays: z.int().min(1).max(3650).default(7),
      })
      .prefault({}),
    /** Tags applied to every resource. */
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
  })
  .superRefine((config, context) => {
    const seen = new Map<string, number>();
    config.clusters.forEach((cluster, index) => {
      const first = seen.get(cluster.name);
      if (first !== undefined) {
        context.addIssue({ code: 'custom', path: ['clusters', index, 'name'], message: `duplicate of clusters[${first}].name (${cluster.name})` });
      } else seen.set(cluster.name, index);

      const region = cluster.region ?? config.region;
      if (cluster.accessEntries && region !== config.region) {
        context.addIssue({
          code: 'custom',
          path: ['clusters', index, 'accessEntries'],
          message: `the cluster is in ${region} but the stack deploys to ${config.region}; access entries are regional: set accessEntries to false and create them in ${region} (see "Deploying with CDK" in README.md)`,
        });
      }

      const overlap = cluster.namespaces.include.filter((namespace) => cluster.namespaces.exclude.includes(namespace));
      if (overlap.length > 0) {
        context.addIssue({ code: 'custom', path: ['clusters', index, 'namespaces', 'exclude'], message: `also listed in include: ${overlap.join(', ')}` });
      }

      const intervalSeconds = cluster.schedule.rateMinutes * 60;
      const maxObservationAgeSeconds = durationSecondsOrNull(cluster.sampling.maxObservationAge);
      if (maxObservationAgeSeconds === null) {
        // Already reported by the field's own check.
      } else if (cluster.sampling.dueBased && maxObservationAgeSeconds < intervalSeconds) {
        context.addIssue({
          code: 'custom',
          path: ['clusters', index, 'sampling', 'maxObservationAge'],
          message: `${cluster.sampling.maxObservationAge} is shorter than the sweep interval (schedule.rateMinutes ${cluster.schedule.rateMinutes}): every pod would be due every sweep; set it to at least ${cluster.schedule.rateMinutes}m, or set sampling.dueBased to false`,
        });
      } else if (maxObservationAgeSeconds > MAX_OBSERVATION_AGE_SECONDS) {
        context.addIssue({
          code: 'custom',
          path: ['clusters', index, 'sampling', 'maxObservationAge'],
          message: `${cluster.sampling.maxObservationAge} is longer than 24h: a sidecar that lost its secret would go unseen that long`,
        });
      }
      const sampler = config.functions.sampler;
      if (intervalSeconds > 0 && sampler.timeoutSeconds >= intervalSeconds) {
        context.addIssue({
          code: 'custom',
          path: ['functions', 'sampler', 'timeoutSeconds'],
          message: `${sampler.timeoutSeconds} s must be shorter than the sweep interval of clusters[${index}] (${cluster.name}: schedule.rateMinutes ${cluster.schedule.rateMinutes} = ${intervalSeconds} s) so two sweeps of a cluster never overlap`,
        });
      }
      if (sampler.timeoutSeconds < sampler.sweepDeadlineMarginSeconds + cluster.sampleTimeoutSeconds * 2) {
        context.addIssue({
          code: 'custom',
          path: ['functions', 'sampler', 'timeoutSeconds'],
          message: `${sampler.timeoutSeconds} s leaves no room to sample clusters[${index}] (${cluster.name}): it must be at least sweepDeadlineMarginSeconds (${sampler.sweepDeadlineMarginSeconds}) + 2 x sampleTimeoutSeconds (${cluster.sampleTimeoutSeconds})`,
        });
      }
    });
  });

export type DeploymentConfig = z.output<typeof deploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof deploymentConfigSchema>;
export type ClusterConfig = DeploymentConfig['clusters'][number];

/**
 * Validates `raw` (parsed JSON or a module's default export) and applies every default.
 * @throws ConfigError naming the exact setting, every further problem on its own line
 */
export function parseDeploymentConfig(raw: unknown): DeploymentConfig {
  const result = deploymentConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw configErrorFromIssues(result.error.issues, { schema: deploymentConfigSchema });
  return result.data;
}

/** The cluster's region: its own, or the deployment's. */
export function clusterRegion(config: DeploymentConfig, cluster: ClusterConfig): string {
  return cluster.region ?? config.region;
}

/**
 * The reserved concurrency of each function, defaults applied (the one place they are).
 *  - sampler: one per cluster. Each cluster is swept by one invocation per interval; a cap at
 *    the number of clusters means sweeps that overrun (a slow or hung API server) cannot pile up
 *    and multiply the load on the API servers: the extra invocation is throttled, retried by
 *    Lambda within the sweep interval, and lands in the sampler's dead-letter queue (alarmed).
 *  - remediator: 5. Every unhealthy pod is an event on every sweep; five at a time bounds the
 *    GETs and PATCHes a bad hour sends to the API servers and the writes racing in DynamoDB.
 *    Throttled asynchronous events are retried by Lambda (up to the one-hour event age).
 *  - notifier: 2, the SQS event source's maximum concurrency: Slack allows about one message per
 *    second per webhook, so two posters are plenty and never more run.
 */
export function reservedConcurrency(config: DeploymentConfig): { sampler?: number; remediator?: number; notifier?: number } {
  const pick = (value: number | false | undefined, fallback: number): number | undefined => (value === false ? undefined : (value ?? fallback));
  const result: { sampler?: number; remediator?: number; notifier?: number } = {};
  const sampler = pick(config.functions.sampler.reservedConcurrency, config.clusters.length);
  const remediator = pick(config.functions.remediator.reservedConcurrency, DEFAULT_REMEDIATOR_CONCURRENCY);
  const notifier = pick(config.functions.notifier.reservedConcurrency, NOTIFIER_MAX_CONCURRENCY);
  if (sampler !== undefined) result.sampler = sampler;
  if (remediator !== undefined) result.remediator = remediator;
  if (notifier !== undefined) result.notifier = notifier;
  return result;
}

export const DEFAULT_REMEDIATOR_CONCURRENCY = 5;
/** The notifier's SQS event source runs at most this many batches at once. */
export const NOTIFIER_MAX_CONCURRENCY = 2;

/** One destination with its defaults applied (what the runtime configuration and the stack read). */
export interface ResolvedDestination {
  readonly channel: ChannelName;
  readonly secret: string;
  readonly namespaces?: readonly string[];
  readonly minSeverity: State;
  /** The states that open an incident (PagerDuty only). */
  readonly incidentStates?: readonly State[];
}

/** Every destination: the `slackWebhookSecret` shorthands first (as Slack destinations), then `destinations`. */
export function notificationDestinations(config: Pick<DeploymentConfig, 'notifications'>): ResolvedDestination[] {
  const { notifications } = config;
  const legacy: ResolvedDestination[] =
    notifications.slackWebhookSecret === undefined
      ? []
      : [
          { channel: 'slack', secret: notifications.slackWebhookSecret, minSeverity: notifications.minimumSeverity },
          ...Object.entries(notifications.namespaceSlackWebhookSecrets).map(([namespace, secret]) => ({
            channel: 'slack' as const,
            secret,
            namespaces: [namespace],
            minSeverity: notifications.minimumSeverity,
          })),
        ];
  const listed = notifications.destinations.map(
    (d): ResolvedDestination => ({
      channel: d.channel,
      secret: d.secret,
      ...(d.namespaces !== undefined ? { namespaces: d.namespaces } : {}),
      minSeverity: d.minSeverity ?? notifications.minimumSeverity,
      ...(d.channel === 'pagerduty' ? { incidentStates: d.triggerOnExpiring ? (['expired', 'expiring'] as const) : (['expired'] as const) } : {}),
    }),
  );
  // The same Slack webhook secret for one namespace in both forms is one destination.
  const merged: ResolvedDestination[] = [];
  for (const destination of [...legacy, ...listed]) {
    const twin = merged.find((d) => d.channel === destination.channel && d.secret === destination.secret);
    if (!twin) merged.push(destination);
    else if (!destination.namespaces) merged[merged.indexOf(twin)] = destination;
    else if (twin.namespaces) merged[merged.indexOf(twin)] = { ...twin, namespaces: [...new Set([...twin.namespaces, ...destination.namespaces])] };
  }
  return merged;
}
