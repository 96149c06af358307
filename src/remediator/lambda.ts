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
import { LOG_MESSAGES } from '../config/metric-names.js';
import type { RemediatorRuntimeConfig } from '../config/runtime.js';
import { ConfigError, MeshCertWatchError, describeError } from '../core/model/errors.js';
import { parseTrigger, remediationPolicy } from '../core/remediation/remediation.js';
import type { KubeClientFactory } from '../ports/clusters.js';
import type { EventSink } from '../ports/events.js';
import type { RestartGuard } from '../ports/restart-guard.js';
import { failureBeforeRemediation } from './remediate.js';
import { remediateEvent, type RemediationOutcome } from './remediate-event.js';
import { WORKLOAD_RESTART } from '../core/events/events.js';

export type UnhealthyEvent = EventBridgeEvent<'Pod Certificate Unhealthy', unknown>;

export interface RemediatorDependencies {
  readonly config: RemediatorRuntimeConfig;
  readonly kubeClientFor: KubeClientFactory;
  readonly guard: RestartGuard;
  /** Where the outcome event goes (`EventBridgeSink` on `config.eventBusName` in AWS). */
  readonly events: EventSink;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** Time kept after the last Kubernetes request for the Workload Restart event and the logs. */
export const REMEDIATOR_PUBLISH_ALLOWANCE_MS = 5_000;

/** `dependencies` is called once, on the first event (cold start), and kept. */
export function createRemediatorHandler(dependencies: () => RemediatorDependencies, shell: { logger: Logger }) {
  let resolved: RemediatorDependencies | undefined;

  const handle = async (event: UnhealthyEvent, context: Context): Promise<RemediationOutcome['detail']> => {
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

    let outcome: RemediationOutcome;
    try {
      // Every Kubernetes request (reads, the PATCH, its read-back) ends in time to publish the outcome.
      const requestDeadline = new Date(Date.now() + context.getRemainingTimeInMillis() - REMEDIATOR_PUBLISH_ALLOWANCE_MS);
      const kube = (await resolved.kubeClientFor(cluster)).withDeadline(requestDeadline);
      outcome = await remediateEvent(trigger, {
        kube,
        guard,
        policy,
        clock,
        tbotAgents: cluster.tbot,
        onWarning: (message, error) => logger.warn(message, { error: describeError(error) }),
      });
    } catch (error) {
      if (!(error instanceof MeshCertWatchError)) throw error;
      outcome = { detailType: WORKLOAD_RESTART, detail: failureBeforeRemediation(trigger, policy, clock(), `connecting to cluster ${cluster.name}`, error) };
    }
    const detail = outcome.detail;

    const log = detail.outcome === 'failed' ? logger.error.bind(logger) : logger.info.bind(logger);
    log(outcome.detailType === WORKLOAD_RESTART ? LOG_MESSAGES.restartOutcome : LOG_MESSAGES.agentRestartOutcome, {
      outcome: detail.outcome,
      reason: detail.reason,
      ...(outcome.detailType === WORKLOAD_RESTART
        ? { workload: outcome.detail.workload }
        : { node: outcome.detail.node, agentPod: outcome.detail.agentPod, version: outcome.detail.version }),
      dryRun: detail.dryRun,
      // `message` is the log line's own key in Powertools (a field of that name is dropped).
      detail: detail.message,
      ...(detail.statusCode !== undefined ? { statusCode: detail.statusCode } : {}),
    });

    const published = await resolved.events.publish([outcome]);
    if (published.failed.length > 0) {
      const failure = published.failed[0]!;
      logger.error(`${outcome.detailType} event not published`, { errorCode: failure.errorCode, errorMessage: failure.errorMessage, outcome: detail.outcome });
      throw new MeshCertWatchError('AWS', `PutEvents refused the ${outcome.detailType} event: ${failure.errorCode}: ${failure.errorMessage}`);
    }
    return detail;
  };

  return middy<UnhealthyEvent, RemediationOutcome['detail'], Error, Context>(handle)
    .use(injectLambdaContext(shell.logger, { resetKeys: true }));
}
