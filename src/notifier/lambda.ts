/**
 * The notifier Lambda, as a factory: middy with Powertools logging around the engine
 * (engine.ts). `functions/notifier/handler.ts` supplies Secrets Manager, DynamoDB and the Slack
 * client with the configuration from `MESH_CERT_WATCH_CONFIG`; tests supply a local HTTP server
 * for Slack and dynalite.
 *
 * Input: an SQS batch whose bodies are whole EventBridge events (the notifier rule's SQS target
 * has no input transformation). Output: `{ batchItemFailures }` (the event source mapping has
 * `ReportBatchItemFailures`): only the records of a destination whose send failed, and
 * unreadable records, go back to the queue. One log line per destination and batch (`slack
 * message posted`, `pagerduty events sent`... see channelLogMessages) and, per channel that had
 * something to send, the EMF metrics NOTIFIER_METRICS with the one dimension `Channel` (per
 * deployment, not per cluster); the queue's age and depth, the dead-letter alarm and the
 * function's errors are AWS metrics.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DIMENSIONS, NOTIFIER_METRICS } from '../config/metric-names.js';
import { processBatch, type MessageReport, type NotifierEngine } from './engine.js';

export interface NotifierDependencies extends NotifierEngine {
  /** Stop starting posts this long before the Lambda timeout. @default 5000 */
  readonly safetyMarginMs?: number;
}

/** Per channel in the batch: payloads sent and destinations failed, one EMF document each (dimension `Channel` only). */
function publishMetrics(messages: readonly MessageReport[], metrics: Metrics): void {
  for (const channel of [...new Set(messages.map((m) => m.channel))].sort()) {
    const mine = messages.filter((m) => m.channel === channel);
    metrics.addDimensions({ [DIMENSIONS.channel]: channel });
    metrics.addMetric(NOTIFIER_METRICS.sent, MetricUnit.Count, mine.reduce((n, m) => n + m.payloads, 0));
    metrics.addMetric(NOTIFIER_METRICS.failed, MetricUnit.Count, mine.filter((m) => m.outcome === 'failed').length);
    metrics.publishStoredMetrics();
  }
}

/** `dependencies` is called once, on the first batch (cold start), and kept. */
export function createNotifierHandler(dependencies: () => NotifierDependencies, shell: { logger: Logger; metrics?: Metrics }) {
  let resolved: NotifierDependencies | undefined;
  // EMF metrics must carry exactly the dimension sets the dashboard reads: no `service`.
  shell.metrics?.clearDefaultDimensions();

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    resolved ??= dependencies();
    const now = (resolved.clock ?? (() => new Date()))().getTime();
    const deadline = now + Math.max(0, context.getRemainingTimeInMillis() - (resolved.safetyMarginMs ?? 5000));
    const result = await processBatch(event.Records, resolved, { holder: context.awsRequestId, deadline });
    if (shell.metrics) publishMetrics(result.messages, shell.metrics);
    resolved.log.info('notification batch done', {
      records: event.Records.length,
      messages: result.messages.length,
      failedRecords: result.batchItemFailures.length,
      quiet: result.quiet,
    });
    return { batchItemFailures: result.batchItemFailures };
  };

  return middy<SQSEvent, SQSBatchResponse, Error, Context>(handle).use(injectLambdaContext(shell.logger, { resetKeys: true }));
}
