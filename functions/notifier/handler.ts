/**
 * Notifier Lambda entry point: reads the notification queue (state changes, workload restarts,
 * failed or partial sweeps) and posts Slack messages. The work is in src/notifier; this file only
 * wires AWS clients, the Slack client and the configuration the stack writes to
 * MESH_CERT_WATCH_CONFIG (validated on the first batch).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDeliveryLog, DynamoPostGate } from '../../src/aws/notification-store.js';
import { SecretsManagerWebhooks } from '../../src/aws/webhook-secrets.js';
import { notifierRuntimeConfig, parseRuntimeConfig } from '../../src/config/runtime.js';
import { createNotifierHandler } from '../../src/notifier/lambda.js';
import { SlackWebhookPoster } from '../../src/slack/webhook-poster.js';

const logger = new Logger({ serviceName: 'mesh-cert-watch-notifier' });

export const handler = createNotifierHandler(
  () => {
    const config = parseRuntimeConfig(notifierRuntimeConfig, process.env);
    const dynamo = new DynamoDBClient({});
    return {
      settings: config,
      webhooks: new SecretsManagerWebhooks({ client: new SecretsManagerClient({}), ttlSeconds: config.secretCacheSeconds }),
      poster: new SlackWebhookPoster(),
      deliveries: new DynamoDeliveryLog({ client: dynamo, tableName: config.deliveryTableName, leaseSeconds: config.deliveryLeaseSeconds }),
      gate: new DynamoPostGate({ client: dynamo, tableName: config.deliveryTableName, intervalMs: Math.ceil(1000 / config.maxMessagesPerSecond) }),
      log: logger,
    };
  },
  { logger },
);
