/**
 * The notifier Lambda, as a factory: middy with Powertools logging and metrics around the engine
 * (engine.ts). `functions/notifier/handler.ts` supplies Secrets Manager, DynamoDB and the Slack
 * client with the configuration from `MESH_CERT_WATCH_CONFIG`; tests supply a local HTTP server
 * for Slack and dynalite.
 *
 * Input: an SQS batch whose bodies are whole EventBridge events (the notifier rule's SQS target
 * has no input transformation). Output: `{ batchItemFailures }` (the event source mapping has
 * `ReportBatchItemFailures`): only the records of a message that could not be posted, and
 * unreadable records, go back to the queue. Metrics: `SlackMessagesSent` / `SlackMessagesFailed`
 * by [Cluster], once per message and cluster it covers.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DIMENSIONS, NOTIFIER_METRICS } from '../config/metric-names.js';
import { processBatch, type NotifierEngine } from './engine.js';

export interface NotifierDependencies extends NotifierEngine {
  readonly metrics: Metrics;
  /** Stop starting posts this long before the Lambda timeout. @default 5000 */
  readonly safetyMarginMs?: number;
}

/** `dependencies` is called once, on the first batch (cold start), and kept. */
export function createNotifierHandler(dependencies: () => NotifierDependencies, shell: { logger: Logger; metrics: Metrics }) {
  let resolved: NotifierDependencies | undefined;
  // EMF metrics must carry exactly the dimension sets the dashboard reads: no `service`.
  shell.metrics.clearDefaultDimensions();

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    resolved ??= dependencies();
    const { metrics } = resolved;
    const now = (resolved.clock ?? (() => new Date()))().getTime();
    const deadline = now + Math.max(0, context.getRemainingTimeInMillis() - (resolved.safetyMarginMs ?? 5000));
    const result = await processBatch(event.Records, resolved, { holder: context.awsRequestId, deadline });

    for (const message of result.messages) {
      for (const cluster of message.clusters) {
        const single = metrics.singleMetric();
        single.clearDefaultDimensions();
        single.addDimension(DIMENSIONS.cluster, cluster);
        single.addMetric(message.outcome === 'sent' ? NOTIFIER_METRICS.slackMessagesSent : NOTIFIER_METRICS.slackMessagesFailed, MetricUnit.Count, 1);
      }
    }
    resolved.log.info('notification batch done', {
      records: event.Records.length,
      messages: result.messages.length,
      failedRecords: result.batchItemFailures.length,
      quiet: result.quiet,
    });
    return { batchItemFailures: result.batchItemFailures };
  };

  // Every metric is a single metric, written when added (one per message and cluster): there is
  // nothing to flush, so no logMetrics middleware (it would log "no metrics" on every batch).
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(handle).use(injectLambdaContext(shell.logger, { resetKeys: true }));
}
