/**
 * The notifier handler wired for tests: the real @slack/webhook client posting to a local HTTP
 * server, the real Secrets Manager adapter over an in-memory secrets client, dynalite for the
 * delivery log and rate gate, a fake clock for every wait, and stdout/stderr captured (the logs
 * and EMF metrics). Not a test file.
 */
import { jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoDeliveryLog, DynamoPostGate } from '../../src/aws/notification-store.js';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoIncidentLog } from '../../src/aws/notification-store.js';
import { SecretsManagerSecrets } from '../../src/aws/webhook-secrets.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import { PagerDutyChannel } from '../../src/pagerduty/pagerduty-channel.js';
import type { FakePagerDuty } from '../../src/sandbox/emulator/fake-pagerduty.js';
import { SlackChannel } from '../../src/slack/slack-channel.js';
import { MemorySecrets } from '../../src/sandbox/emulator/memory-secrets.js';
import { notifierRuntimeConfig, parseRuntimeConfig, type NotifierRuntimeConfigInput } from '../../src/config/runtime.js';
import { createNotifierHandler } from '../../src/notifier/lambda.js';
import { SlackWebhookPoster } from '../../src/slack/webhook-poster.js';
import type { LocalDynamo } from '../remediator/kit.js';
import { FakeClock, type FakeSlack } from './kit.js';

export const DASHBOARD_URL = 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/mesh-cert-watch';
export const DEFAULT_SECRET = 'mesh-cert-watch/slack-webhook';
export const PAYMENTS_SECRET = 'mesh-cert-watch/slack-webhook-payments';
export const PAGERDUTY_SECRET = 'mesh-cert-watch/pagerduty-routing-key';
/** A routing key as PagerDuty issues them: 32 letters and digits (the logs must never show it). */
export const ROUTING_KEY = 'R0utingKeyForTestsOnly0123456789';

export const CONTEXT = {
  functionName: 'mesh-cert-watch-notifier',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:mesh-cert-watch-notifier',
  memoryLimitInMB: '256',
  functionVersion: '$LATEST',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

export const contextFor = (requestId: string): Context => ({ ...CONTEXT, awsRequestId: requestId }) as Context;

/** Webhook URLs on the fake Slack; the path tail is the "secret" the logs must never show. */
export function webhookUrls(slack: FakeSlack) {
  return {
    default: `${slack.url}/services/T0000/B0000/DefaultSecretToken0123456789`,
    payments: `${slack.url}/services/T0000/B1111/PaymentsSecretToken987654321`,
  };
}

export { MemorySecrets } from '../../src/sandbox/emulator/memory-secrets.js';

let tableCounter = 0;

export interface Harness {
  readonly handler: (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
  readonly clock: FakeClock;
  readonly secrets: MemorySecrets;
  readonly output: string[];
  readonly tableName: string;
  /** Everything written to stdout/stderr so far (logs and EMF). */
  text(): string;
  restore(): void;
}

export async function notifierHarness(
  slack: FakeSlack,
  dynamo: LocalDynamo,
  overrides: Partial<NotifierRuntimeConfigInput> & { readonly minimumSeverity?: NotifierRuntimeConfigInput['destinations'][number]['minimumSeverity'] } = {},
  pagerDuty?: FakePagerDuty,
): Promise<Harness> {
  tableCounter += 1;
  const tableName = `notifications-${tableCounter}`;
  await dynamo.createTable(tableName);
  const urls = webhookUrls(slack);
  const secrets = new MemorySecrets({ [DEFAULT_SECRET]: urls.default, [PAYMENTS_SECRET]: JSON.stringify({ url: urls.payments }), [PAGERDUTY_SECRET]: ROUTING_KEY });
  const clock = new FakeClock();
  const output: string[] = [];
  const capture = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);

  const { minimumSeverity = 'stale', ...rest } = overrides;
  const input: NotifierRuntimeConfigInput = {
    destinations: [
      { channel: 'slack', secretId: DEFAULT_SECRET, minimumSeverity },
      { channel: 'slack', secretId: PAYMENTS_SECRET, namespaces: ['payments'], minimumSeverity },
    ],
    dashboardUrl: DASHBOARD_URL,
    maxMessagesPerSecond: 1,
    deliveryTableName: tableName,
    deliveryLeaseSeconds: 60,
    ...rest,
  };
  const config = parseRuntimeConfig(notifierRuntimeConfig, { MESH_CERT_WATCH_CONFIG: JSON.stringify(input) });
  const logger = new Logger({ serviceName: 'mesh-cert-watch-notifier', logLevel: 'DEBUG' });
  const client = dynamo.client();
  const handler = createNotifierHandler(
    () => ({
      settings: config,
      channels: {
        slack: new SlackChannel({
          // The local server speaks plain HTTP on 127.0.0.1; production accepts only hooks.slack.com.
          acceptUrl: (url) => url.protocol === 'http:' && url.hostname === '127.0.0.1',
          poster: new SlackWebhookPoster({ sleep: clock.sleep, clock: clock.now, random: () => 0.5, attempts: 3 }),
        }),
        ...(pagerDuty ? { pagerduty: new PagerDutyChannel({ endpoint: pagerDuty.url, sleep: clock.sleep, clock: clock.now, random: () => 0.5, attempts: 3 }) } : {}),
      },
      secrets: new SecretsManagerSecrets({ client: secrets, ttlSeconds: config.secretCacheSeconds, clock: clock.now }),
      incidents: new DynamoIncidentLog({ client, tableName }),
      deliveries: new DynamoDeliveryLog({ client, tableName, leaseSeconds: config.deliveryLeaseSeconds }),
      gate: new DynamoPostGate({ client, tableName, intervalMs: Math.ceil(1000 / config.maxMessagesPerSecond), clock: clock.now, sleep: clock.sleep }),
      log: logger,
      clock: clock.date,
    }),
    { logger, metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-notifier' }) },
  );
  return {
    handler: (event, context = CONTEXT) => handler(event, context),
    clock,
    secrets,
    output,
    tableName,
    text: () => output.join(''),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

/** Parsed JSON log lines (Powertools) from captured output. */
export function logLines(output: readonly string[]): Record<string, unknown>[] {
  return output
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
