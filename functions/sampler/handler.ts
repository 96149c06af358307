/**
 * Sampler Lambda entry point: invoked by one EventBridge Scheduler schedule per cluster with
 * `{"cluster": "<name>"}`, sweeps that EKS cluster and publishes its events. The work is in
 * src/sampler; this file only wires AWS clients and the configuration the stack writes to
 * MESH_CERT_WATCH_CONFIG (validated on the first invocation).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';
import { eksKubeClients } from '../../src/aws/eks-clients.js';
import { S3HistoryStore } from '../../src/aws/history-store.js';
import { DynamoLedger } from '../../src/aws/ledger.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import { parseRuntimeConfig, samplerRuntimeConfig } from '../../src/config/runtime.js';
import { createSamplerHandler } from '../../src/sampler/lambda.js';

const logger = new Logger({ serviceName: 'mesh-cert-watch-sampler' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-sampler' });

export const handler = createSamplerHandler(
  () => {
    const config = parseRuntimeConfig(samplerRuntimeConfig, process.env);
    return {
      config,
      kubeClientFor: eksKubeClients(fromNodeProviderChain()),
      ledger: new DynamoLedger({ client: new DynamoDBClient({}), tableName: config.ledgerTableName }),
      ...(config.historyBucketName ? { history: new S3HistoryStore(new S3Client({}), config.historyBucketName) } : {}),
      events: new EventBridgeSink(new EventBridgeClient({}), config.eventBusName),
      logger,
      metrics,
    };
  },
  { logger, metrics },
);
