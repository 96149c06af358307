/**
 * AWS tier (`npm run test:aws`): the sampler Lambda handler invoked like the schedule does
 * (`{"cluster": name}`, a Lambda context), with real AWS SDK clients against a private moto
 * server on 127.0.0.1 (EventBridge bus + rules -> SQS queues, the ledger table in moto's
 * DynamoDB) and the Kubernetes API emulator as the EKS cluster. The emulator authenticates the
 * locally signed EKS token by re-signing it for the expected cluster and credentials, so the
 * production token path is exercised. Scripted scenario: a pod turns stale, then recovers; then
 * a cluster that cannot be reached. What the bus delivered is read back from the queues.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { notifierEventPattern } from '../../src/config/event-patterns.js';
import { eksKubeClients } from '../../src/aws/eks-clients.js';
import { DynamoLedger } from '../../src/aws/ledger.js';
import type { LedgerEntry } from '../../src/core/events/changes.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import { ClusterUnreachableError } from '../../src/core/model/errors.js';
import { EVENT_SOURCE } from '../../src/core/events/events.js';
import { startKubeApiEmulator, type KubeApiEmulator, type KubeObject } from '../../src/sandbox/emulator/kube-api.js';
import { tbotVersionInfo } from '../../src/sandbox/emulator/envoy-dump.js';
import { createStateTable } from '../../src/sandbox/emulator/local-dynamodb.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, type MeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { createSamplerHandler } from '../../src/sampler/lambda.js';
import { closedPort, clusterInput, eksTokenValidator, lambdaContext, minutesBefore, samplerConfig, schemaErrors, scriptPod } from '../sampler/kit.js';
import { awsJsonCall, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './moto-server.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const BUS = 'mesh-cert-watch';
const TABLE = 'mesh-cert-watch-ledger';
const T1 = new Date('2026-11-27T12:00:00.000Z');
const T2 = new Date('2026-11-27T12:05:00.000Z');
const HOUR = 3600;
const ZERO = { sampled: 0, skipped: 0, healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 0 };
const QUEUES = ['all', 'notifier'] as const;
type QueueName = (typeof QUEUES)[number];

interface Delivered {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
}

let moto: Moto;
let emulator: KubeApiEmulator;
let pki: MeshPki;
let orders: KubeObject;
let carts: KubeObject;
let ledger: DynamoLedger;
const queueUrls = {} as Record<QueueName, string>;
const clock = { now: T1 };
const validator = eksTokenValidator({ cluster: 'prod-mesh', region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
const clients: { destroy(): void }[] = [];
let handler: ReturnType<typeof createSamplerHandler>;
let sweepIds: string[];

const sqs = <T>(action: string, body: Record<string, unknown>) => awsJsonCall<T>(moto, 'sqs', `AmazonSQS.${action}`, body);

/** Everything the queue holds, in the order SQS hands it out; then empties it. */
async function drain(queue: QueueName): Promise<Delivered[]> {
  const out: Delivered[] = [];
  for (;;) {
    const { Messages = [] } = await sqs<{ Messages?: { Body: string; ReceiptHandle: string }[] }>('ReceiveMessage', {
      QueueUrl: queueUrls[queue],
      MaxNumberOfMessages: 10,
    });
    if (Messages.length === 0) return out;
    for (const message of Messages) {
      out.push(JSON.parse(message.Body) as Delivered);
      await sqs('DeleteMessage', { QueueUrl: queueUrls[queue], ReceiptHandle: message.ReceiptHandle });
    }
  }
}

/** The handler runs as in Lambda; its EMF and log lines are kept off the test output. */
async function invoke(event: unknown, remainingMs = 240_000): Promise<unknown> {
  const quiet = jest.spyOn(process.stdout, 'write').mockImplementation((() => true) as typeof process.stdout.write);
  try {
    return await handler(event as { cluster: string }, lambdaContext(remainingMs));
  } finally {
    quiet.mockRestore();
  }
}

beforeAll(async () => {
  moto = await startMoto();
  const aws = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
  const events = new EventBridgeClient(aws);
  const dynamo = new DynamoDBClient(aws);
  clients.push(events, dynamo);

  await events.send(new CreateEventBusCommand({ Name: BUS }));
  const patterns: Record<QueueName, object> = { all: { source: [EVENT_SOURCE] }, notifier: notifierEventPattern() };
  for (const queue of QUEUES) {
    const { QueueUrl } = await sqs<{ QueueUrl: string }>('CreateQueue', { QueueName: `sampler-${queue}` });
    queueUrls[queue] = QueueUrl;
    const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
    await events.send(new PutRuleCommand({ Name: queue, EventBusName: BUS, EventPattern: JSON.stringify(patterns[queue]) }));
    await events.send(new PutTargetsCommand({ Rule: queue, EventBusName: BUS, Targets: [{ Id: 'queue', Arn: Attributes.QueueArn }] }));
  }
  await createStateTable(dynamo, TABLE);
  ledger = new DynamoLedger({ client: dynamo, tableName: TABLE });

  emulator = await startKubeApiEmulator({ validateToken: validator.validateToken });
  pki = await createMeshPki('example.org');
  const mesh = new Mesh(emulator, { startTime: minutesBefore(T1, 600) });
  mesh.addNamespace('shop');
  carts = mesh.addDeployment('shop', 'carts').pods[0]!;
  orders = mesh.addDeployment('shop', 'orders').pods[0]!;

  const deadPort = await closedPort();
  const config = samplerConfig({
    eventBusName: BUS,
    ledgerTableName: TABLE,
    clusters: [clusterInput('prod-mesh', { region: MOTO_REGION }), clusterInput('lost-cluster', { region: MOTO_REGION })],
  });
  const logger = new Logger({ serviceName: 'mesh-cert-watch-sampler', logLevel: 'CRITICAL' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-sampler' });
  const caData = Buffer.from(emulator.caCertificatePem).toString('base64');
  sweepIds = [];
  handler = createSamplerHandler(
    () => ({
      config,
      kubeClientFor: eksKubeClients(async () => MOTO_CREDENTIALS, {
        // DescribeCluster is covered by eks-cluster.moto.ts; here the "EKS endpoint" is the emulator.
        resolveEndpoint: async (cluster) => ({
          endpoint: cluster.name === 'prod-mesh' ? emulator.url : `https://127.0.0.1:${deadPort}`,
          certificateAuthorityData: caData,
        }),
        kubeClient: { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
      }),
      ledger,
      events: new EventBridgeSink(events, BUS),
      logger,
      metrics,
      clock: () => clock.now,
      newSweepId: () => {
        sweepIds.push(`sweep-${sweepIds.length + 1}`);
        return sweepIds.at(-1)!;
      },
    }),
    { logger, metrics },
  );
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator?.close();
  await moto?.stop();
});

/** The per-pod object the sampler reports for `pod` with a tbot leaf issued and pushed at `issuedAt`. */
function podObject(pod: KubeObject, issuedAt: Date, now: Date, serial: string) {
  const age = (now.getTime() - issuedAt.getTime()) / 1000;
  const secret = (name: string) => ({ name, versionInfo: tbotVersionInfo(issuedAt), lastUpdated: issuedAt.toISOString(), pushAgeSeconds: age });
  return {
    namespace: 'shop',
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    serviceAccount: 'orders',
    node: (pod.spec as { nodeName: string }).nodeName,
    workload: { kind: 'Deployment', name: 'orders' },
    source: 'tbot',
    certificate: {
      serialNumber: serial.toUpperCase(),
      fingerprintSha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      spiffeId: 'spiffe://example.org/ns/shop/sa/orders',
      notBefore: issuedAt.toISOString(),
      notAfter: new Date(issuedAt.getTime() + HOUR * 1000).toISOString(),
      ageSeconds: age,
      remainingSeconds: HOUR - age,
      lifetimeSeconds: HOUR,
    },
    secrets: [secret('default'), secret('ROOTCA')],
  };
}

describe('sampler handler on moto: a pod turns stale, then recovers', () => {
  const delivered: Record<QueueName, Delivered[]>[] = [];
  const results: unknown[] = [];
  let staleSerial: string;
  let freshSerial: string;
  let ledgerAfter: (readonly LedgerEntry[])[];

  beforeAll(async () => {
    await scriptPod(emulator, pki, carts, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 10), lifetimeSeconds: HOUR });
    staleSerial = await scriptPod(emulator, pki, orders, { servedBy: 'tbot', issuedAt: minutesBefore(T1, 45), lifetimeSeconds: HOUR });
    ledgerAfter = [];

    results.push(await invoke({ cluster: 'prod-mesh' }));
    delivered.push({ all: await drain('all'), notifier: await drain('notifier') });
    ledgerAfter.push(await ledger.load('prod-mesh'));

    clock.now = T2;
    freshSerial = await scriptPod(emulator, pki, orders, { servedBy: 'tbot', issuedAt: minutesBefore(T2, 2), lifetimeSeconds: HOUR });
    results.push(await invoke({ cluster: 'prod-mesh' }));
    delivered.push({ all: await drain('all'), notifier: await drain('notifier') });
    ledgerAfter.push(await ledger.load('prod-mesh'));
  }, 60_000);

  it('authenticated every Kubernetes API call with the locally signed EKS token', () => {
    expect(validator.rejected).toEqual([]);
    expect(validator.presented.size).toBeGreaterThan(0);
    expect(emulator.requests.length).toBeGreaterThan(0);
    expect(emulator.requests.every((r) => r.status !== 401 && r.username !== undefined)).toBe(true);
  });

  it('sweep 1 delivers exactly: State Changed (opened, stale), Unhealthy (stale), Sweep Completed', () => {
    const stale = podObject(orders, minutesBefore(T1, 45), T1, staleSerial);
    const where = { cluster: 'prod-mesh', sweepId: 'sweep-1', observedAt: T1.toISOString() };
    const summary = { ...ZERO, sampled: 2, healthy: 1, stale: 1 };
    const all = delivered[0]!.all;
    expect(all.map((e) => [e.source, e['detail-type']])).toEqual([
      [EVENT_SOURCE, 'Pod Certificate State Changed'],
      [EVENT_SOURCE, 'Pod Certificate Unhealthy'],
      [EVENT_SOURCE, 'Sweep Completed'],
    ]);
    expect(all.map((e) => e.detail)).toEqual([
      { ...stale, ...where, state: 'stale', findings: ['sds-pushes-stopped'], previousState: null, previousFindings: [], previousObservedAt: null, change: 'opened' },
      { ...stale, ...where, state: 'stale', findings: ['sds-pushes-stopped'], sweepSummary: summary },
      {
        cluster: 'prod-mesh',
        sweepId: 'sweep-1',
        startedAt: T1.toISOString(),
        finishedAt: T1.toISOString(),
        durationMs: 0,
        partial: false,
        failed: false,
        summary,
        thresholds: { staleAfter: '60%', expiringWithin: '20%', clockSkewAllowance: '60s' },
        errors: [],
        errorsTotal: 0,
        eventsPublished: 2,
        eventsFailed: 0,
      },
    ]);
    for (const e of all) expect(schemaErrors(e['detail-type'], e.detail)).toEqual([]);
    expect(results[0]).toEqual({ cluster: 'prod-mesh', sweepId: 'sweep-1', partial: false, summary, eventsPublished: 3, eventsFailed: 0 });
  });

  it('sweep 2 delivers exactly: State Changed (resolved), Sweep Completed', () => {
    const fresh = podObject(orders, minutesBefore(T2, 2), T2, freshSerial);
    const all = delivered[1]!.all;
    const summary = { ...ZERO, sampled: 2, healthy: 2 };
    expect(all.map((e) => e.detail)).toEqual([
      {
        ...fresh,
        cluster: 'prod-mesh',
        sweepId: 'sweep-2',
        observedAt: T2.toISOString(),
        state: 'healthy',
        findings: [],
        previousState: 'stale',
        previousFindings: ['sds-pushes-stopped'],
        previousObservedAt: T1.toISOString(),
        change: 'resolved',
      },
      {
        cluster: 'prod-mesh',
        sweepId: 'sweep-2',
        startedAt: T2.toISOString(),
        finishedAt: T2.toISOString(),
        durationMs: 0,
        partial: false,
        failed: false,
        summary,
        thresholds: { staleAfter: '60%', expiringWithin: '20%', clockSkewAllowance: '60s' },
        errors: [],
        errorsTotal: 0,
        eventsPublished: 1,
        eventsFailed: 0,
      },
    ]);
    expect(all.map((e) => e['detail-type'])).toEqual(['Pod Certificate State Changed', 'Sweep Completed']);
    for (const e of all) expect(schemaErrors(e['detail-type'], e.detail)).toEqual([]);
  });

  it("the stack's notifier rule passes only the state changes of complete sweeps", () => {
    expect(delivered.map((d) => d.notifier.map((e) => [e['detail-type'], e.detail.change]))).toEqual([
      [['Pod Certificate State Changed', 'opened']],
      [['Pod Certificate State Changed', 'resolved']],
    ]);
  });

  it("kept the pod in moto's DynamoDB ledger between the sweeps only", () => {
    expect(ledgerAfter).toEqual([
      [
        {
          uid: orders.metadata.uid,
          namespace: 'shop',
          name: orders.metadata.name,
          state: 'stale',
          findings: ['sds-pushes-stopped'],
          workload: { kind: 'Deployment', name: 'orders' },
          observedAt: T1.toISOString(),
          sweepId: 'sweep-1',
          expiresAt: T1.getTime() / 1000 + 7 * 24 * 3600,
        },
      ],
      [],
    ]);
  });
});

describe('sampler handler on moto: a cluster that cannot be reached', () => {
  it('delivers Sweep Completed (failed: true) to the bus and the notifier, then fails the invocation with ClusterUnreachableError', async () => {
    clock.now = T2;
    const error = await invoke({ cluster: 'lost-cluster' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterUnreachableError);
    const all = await drain('all');
    const notifier = await drain('notifier');
    expect(all).toHaveLength(1);
    expect(all[0]!['detail-type']).toBe('Sweep Completed');
    expect(all[0]!.detail).toEqual({
      cluster: 'lost-cluster',
      sweepId: sweepIds.at(-1),
      startedAt: T2.toISOString(),
      finishedAt: T2.toISOString(),
      durationMs: 0,
      partial: false,
      failed: true,
      summary: ZERO,
      thresholds: null,
      errors: [{ namespace: null, name: null, error: (error as Error).message }],
      errorsTotal: 1,
    });
    expect(schemaErrors('Sweep Completed', all[0]!.detail)).toEqual([]);
    expect(notifier.map((e) => [e['detail-type'], e.detail.failed])).toEqual([['Sweep Completed', true]]);
  });
});
