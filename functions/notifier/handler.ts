/**
 * Notifier Lambda entry point: reads the notification queue (state changes, workload restarts,
 * failed or partial sweeps) and sends them to each destination's channel (Slack, PagerDuty). The
 * work is in src/notifier; this file only wires AWS clients, the channel adapters and the
 * configuration the stack writes to MESH_CERT_WATCH_CONFIG (validated on the first batch).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDeliveryLog, DynamoIncidentLog, DynamoPostGate } from '../../src/aws/notification-store.js';
import { SecretsManagerSecrets } from '../../src/aws/webhook-secrets.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import { notifierRuntimeConfig, parseRuntimeConfig } from '../../src/config/runtime.js';
import { createNotifierHandler } from '../../src/notifier/lambda.js';
import { PagerDutyChannel } from '../../src/pagerduty/pagerduty-channel.js';
import { SlackChannel } from '../../src/slack/slack-channel.js';

const logger = new Logger({ serviceName: 'mesh-cert-watch-notifier' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-notifier' });

export const handler = createNotifierHandler(
  () => {
    const config = parseRuntimeConfig(notifierRuntimeConfig, process.env);
    const dynamo = new DynamoDBClient({});
    return {
      settings: config,
      channels: { slack: new SlackChannel(), pagerduty: new PagerDutyChannel() },
      secrets: new SecretsManagerSecrets({ client: new SecretsManagerClient({}), ttlSeconds: config.secretCacheSeconds }),
      deliveries: new DynamoDeliveryLog({ client: dynamo, tableName: config.deliveryTableName, leaseSeconds: config.deliveryLeaseSeconds }),
      gate: new DynamoPostGate({ client: dynamo, tableName: config.deliveryTableName, intervalMs: Math.ceil(1000 / config.maxMessagesPerSecond) }),
      incidents: new DynamoIncidentLog({ client: dynamo, tableName: config.deliveryTableName }),
      log: logger,
    };
  },
  { logger, metrics },
);
