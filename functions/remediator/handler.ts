/**
 * Remediator Lambda entry point: receives `Pod Certificate Unhealthy` events (EventBridge rule
 * on the watcher's bus, restartable states only) and restarts the owning workload under the
 * safety policy. The work is in src/remediator; this file only wires AWS clients and the
 * configuration the stack writes to MESH_CERT_WATCH_CONFIG (validated on the first event).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoRestartGuard } from '../../src/aws/restart-guard.js';
import { parseRuntimeConfig, remediatorRuntimeConfig } from '../../src/config/runtime.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';
import { eksKubeClients } from '../../src/aws/eks-clients.js';
import { createRemediatorHandler } from '../../src/remediator/lambda.js';

const logger = new Logger({ serviceName: 'mesh-cert-watch-remediator' });

export const handler = createRemediatorHandler(
  () => {
    const config = parseRuntimeConfig(remediatorRuntimeConfig, process.env);
    const credentials = fromNodeProviderChain();
    return {
      config,
      kubeClientFor: eksKubeClients(credentials),
      guard: new DynamoRestartGuard({ client: new DynamoDBClient({}), tableName: config.budgetTableName }),
      events: new EventBridgeSink(new EventBridgeClient({}), config.eventBusName),
      logger,
    };
  },
  { logger },
);
