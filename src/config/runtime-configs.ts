/**
 * The `MESH_CERT_WATCH_CONFIG` of each function, built from the deployment configuration. The
 * stack writes these into the functions' environment; the demo hands the same documents to the
 * same handlers in-process, so both run with the deployment's defaults. No CDK here.
 */
import { clusterRegion, notificationDestinations, type DeploymentConfig } from './deployment.js';
import { parseThreshold } from '../core/model/threshold.js';
import type { NotifierRuntimeConfigInput, RemediatorRuntimeConfigInput, SamplerRuntimeConfigInput } from './runtime.js';

/** The CloudWatch console deep link of a dashboard. */
export function dashboardUrl(region: string, dashboardName: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}

export function samplerRuntimeInput(
  config: DeploymentConfig,
  resources: { readonly ledgerTableName: string; readonly historyBucketName?: string },
): SamplerRuntimeConfigInput {
  return {
    // The bus is named after the deployment, so the configuration does not depend on the routing construct.
    eventBusName: config.name,
    ledgerTableName: resources.ledgerTableName,
    ...(resources.historyBucketName !== undefined ? { historyBucketName: resources.historyBucketName } : {}),
    clusters: config.clusters.map((cluster) => ({
      name: cluster.name,
      region: clusterRegion(config, cluster),
      namespaces: { include: cluster.namespaces.include, exclude: cluster.namespaces.exclude },
      thresholds: {
        staleAfter: cluster.thresholds.staleAfter.text,
        expiringWithin: cluster.thresholds.expiringWithin.text,
        clockSkewAllowance: `${cluster.thresholds.clockSkewAllowance}s`,
      },
      concurrency: cluster.concurrency,
      sampleTimeoutSeconds: cluster.sampleTimeoutSeconds,
      maxExecStartsPerSecond: cluster.maxExecStartsPerSecond,
      tbot: { namespace: cluster.tbot.namespace, labelSelector: cluster.tbot.labelSelector },
      rotation: {
        tbotRenewalIntervalSeconds: durationTextSeconds(cluster.rotation.renewalInterval),
        istioAgentGraceRatio: cluster.rotation.istioAgentGraceRatio,
        istioAgentGraceJitter: cluster.rotation.istioAgentGraceJitter,
        slackSeconds: durationTextSeconds(cluster.rotation.slack),
      },
      sampling: { maxObservationAgeSeconds: cluster.sampling.dueBased ? durationTextSeconds(cluster.sampling.maxObservationAge) : 0 },
    })),
    sweepDeadlineMarginSeconds: config.functions.sampler.sweepDeadlineMarginSeconds,
    dashboardUrl: dashboardUrl(config.region, config.name),
  };
}

export function remediatorRuntimeInput(config: DeploymentConfig, resources: { readonly budgetTableName: string }): RemediatorRuntimeConfigInput {
  return {
    eventBusName: config.name,
    budgetTableName: resources.budgetTableName,
    policy: {
      restartStates: config.remediation.restartStates,
      cooldownMinutes: config.remediation.cooldownMinutes,
      budgetPerHour: config.remediation.budgetPerHour,
      breakerUnhealthyShare: config.remediation.breakerUnhealthyShare,
      dryRun: config.remediation.dryRun,
      deleteBarePods: config.remediation.deleteBarePods,
      actOnProvenStale: config.remediation.actOnProvenStale,
      agentRestarts: config.remediation.agentRestarts,
    },
    clusters: config.clusters.map((cluster) => ({
      name: cluster.name,
      region: clusterRegion(config, cluster),
      tbot: { namespace: cluster.tbot.namespace, labelSelector: cluster.tbot.labelSelector },
    })),
  };
}

export function notifierRuntimeInput(config: DeploymentConfig, resources: { readonly deliveryTableName: string }): NotifierRuntimeConfigInput {
  return {
    destinations: notificationDestinations(config).map((d) => ({
      channel: d.channel,
      secretId: d.secret,
      ...(d.namespaces !== undefined ? { namespaces: [...d.namespaces] } : {}),
      minimumSeverity: d.minSeverity,
      ...(d.incidentStates !== undefined ? { incidentStates: [...d.incidentStates] } : {}),
    })),
    dashboardUrl: dashboardUrl(config.region, config.name),
    maxMessagesPerSecond: config.notifications.maxMessagesPerSecond,
    deliveryTableName: resources.deliveryTableName,
    // Longer than one invocation, shorter than the queue's visibility timeout (6 x timeout).
    deliveryLeaseSeconds: config.functions.notifier.timeoutSeconds * 2,
  };
}

/** Seconds of a duration setting the deployment schema already validated (`20m`, `3m`). */
function durationTextSeconds(text: string): number {
  const threshold = parseThreshold(text);
  return threshold.kind === 'duration' ? threshold.seconds : 0;
}
