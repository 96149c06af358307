/**
 * The notifier Lambda, as a factory: middy with Powertools logging around the engine
 * (engine.ts). `functions/notifier/handler.ts` supplies Secrets Manager, DynamoDB and the Slack
 * client with the configuration from `MESH_CERT_WATCH_CONFIG`; tests supply a local HTTP server
 * for Slack and dynalite.
 *
 * Input: an SQS batch whose bodies are whole EventBridge events (the notifier rule's SQS target
 * has no input transformation). Output: `{ batchItemFailures }` (the event source mapping has
 * `ReportBatchItemFailures`): only the records of a message that could not be posted, and
 * unreadable records, go back to the queue. No custom metric: one `slack message posted` / `slack
 * message not posted` log line per message (the dashboard counts them with Logs Insights); the
 * queue's age and depth, the dead-letter alarm and the function's errors are AWS metrics.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch, type NotifierEngine } from './engine.js';

export interface NotifierDependencies extends NotifierEngine {
  /** Stop starting posts this long before the Lambda timeout. @default 5000 */
  readonly safetyMarginMs?: number;
}

/** `dependencies` is called once, on the first batch (cold start), and kept. */
export function createNotifierHandler(dependencies: () => NotifierDependencies, shell: { logger: Logger }) {
  let resolved: NotifierDependencies | undefined;

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    resolved ??= dependencies();
    const now = (resolved.clock ?? (() => new Date()))().getTime();
    const deadline = now + Math.max(0, context.getRemainingTimeInMillis() - (resolved.safetyMarginMs ?? 5000));
    const result = await processBatch(event.Records, resolved, { holder: context.awsRequestId, deadline });
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
