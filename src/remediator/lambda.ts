/**
 * The remediator Lambda, as a factory: middy with Powertools logging around the
 * engine (remediate.ts). `functions/remediator/handler.ts` supplies the AWS clients and the
 * configuration from `MESH_CERT_WATCH_CONFIG`; tests supply the emulator, dynalite and a
 * recording EventBridge sender.
 *
 * Per event: parse the detail → the cluster's KubeClient → remediate → publish one
 * `Workload Restart` → one `workload restart outcome` log line (outcome, reason, workload), which
 * the dashboard's Logs Insights widgets count: no custom metric, each would cost per cluster.
 * The breaker alarm reads the sampler's pod counts, the same numbers the breaker judges.
 * A detail that is not the contract, an unknown cluster, or an event that could not be
 * published fails the invocation (Lambda retries, then the on-failure destination): nothing
 * is dropped silently. Everything else ends in an outcome event.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { publishEvents, type EventBridgeSender, type PublishOptions } from '../aws/event-publisher.js';
import { LOG_MESSAGES } from '../config/metric-names.js';
import type { RemediatorRuntimeConfig } from '../config/runtime.js';
import { ConfigError, MeshCertWatchError, describeError } from '../core/errors.js';
import { WORKLOAD_RESTART } from '../core/events.js';
import { parseTrigger, remediationPolicy, type RemediationDetail } from '../core/remediation.js';
import type { RestartGuard } from '../core/restart-guard.js';
import type { KubeClientFactory } from '../aws/eks-clients.js';
import { failureBeforeRemediation, remediate } from './remediate.js';

export type UnhealthyEvent = EventBridgeEvent<'Pod Certificate Unhealthy', unknown>;

export interface RemediatorDependencies {
  readonly config: RemediatorRuntimeConfig;
  readonly kubeClientFor: KubeClientFactory;
  readonly guard: RestartGuard;
  readonly eventBridge: EventBridgeSender;
  readonly logger: Logger;
  readonly clock?: () => Date;
  readonly publishOptions?: PublishOptions;
}

/** `dependencies` is called once, on the first event (cold start), and kept. */
export function createRemediatorHandler(dependencies: () => RemediatorDependencies, shell: { logger: Logger }) {
  let resolved: RemediatorDependencies | undefined;

  const handle = async (event: UnhealthyEvent): Promise<RemediationDetail> => {
    resolved ??= dependencies();
    const { config, logger, guard } = resolved;
    const clock = resolved.clock ?? (() => new Date());
    const policy = remediationPolicy(config.policy);

    const trigger = parseTrigger(event.detail);
    const cluster = config.clusters.find((c) => c.name === trigger.cluster);
    if (!cluster) {
      throw new ConfigError(
        'clusters',
        `event ${event.id} is for cluster "${trigger.cluster}", which is not configured (${config.clusters.map((c) => c.name).join(', ')})`,
      );
    }
    logger.appendKeys({ cluster: trigger.cluster, namespace: trigger.namespace, pod: trigger.name, sweepId: trigger.sweepId });

    let detail: RemediationDetail;
    try {
      const kube = await resolved.kubeClientFor(cluster);
      detail = await remediate(trigger, {
        kube,
        guard,
        policy,
        clock,
        onWarning: (message, error) => logger.warn(message, { error: describeError(error) }),
      });
    } catch (error) {
      if (!(error instanceof MeshCertWatchError)) throw error;
      detail = failureBeforeRemediation(trigger, policy, clock(), `connecting to cluster ${cluster.name}`, error);
    }

    const log = detail.outcome === 'failed' ? logger.error.bind(logger) : logger.info.bind(logger);
    log(LOG_MESSAGES.restartOutcome, {
      outcome: detail.outcome,
      reason: detail.reason,
      workload: detail.workload,
      dryRun: detail.dryRun,
      // `message` is the log line's own key in Powertools (a field of that name is dropped).
      detail: detail.message,
      ...(detail.statusCode !== undefined ? { statusCode: detail.statusCode } : {}),
    });

    const published = await publishEvents(resolved.eventBridge, config.eventBusName, [{ detailType: WORKLOAD_RESTART, detail }], resolved.publishOptions);
    if (published.failed.length > 0) {
      const failure = published.failed[0]!;
      logger.error('Workload Restart event not published', { errorCode: failure.errorCode, errorMessage: failure.errorMessage, outcome: detail.outcome });
      throw new MeshCertWatchError('AWS', `PutEvents refused the Workload Restart event: ${failure.errorCode}: ${failure.errorMessage}`);
    }
    return detail;
  };

  return middy<UnhealthyEvent, RemediationDetail, Error, Context>(handle)
    .use(injectLambdaContext(shell.logger, { resetKeys: true }));
}
