/**
 * The sampler Lambda handler (middy + Powertools) in the default tier: the Kubernetes API
 * emulator as the EKS cluster, authenticating our locally signed EKS token (re-signed and
 * compared, as the EKS authenticator would via STS); dynalite as the ledger; a recording
 * EventBridge sender. Checks the EMF metrics and the logs it prints, and that no token ever
 * appears in them.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { eksKubeClients } from '../../src/aws/eks-clients.js';
import { DynamoLedger } from '../../src/aws/ledger.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import type { SamplerRuntimeConfig } from '../../src/config/runtime.js';
import { ClusterUnreachableError, ConfigError, InvalidEventError } from '../../src/core/model/errors.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { ACTIVE_SECRETS_PATH, createMeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { createSamplerHandler, sweepDeadline } from '../../src/sampler/lambda.js';
import { execsPerSweepCeiling } from '../../src/core/judgement/sampling-defaults.js';
import { PodFiguresTally, podFiguresOf, sweepMetrics } from '../../src/sampler/metrics.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { closedPort, clusterInput, eksTokenValidator, lambdaContext, minutesBefore, recordingEventBridge, samplerConfig, schemaErrors, scriptPod } from './kit.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const NOW = new Date('2026-11-27T12:00:00.000Z');
const HOUR = 3600;
const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

let emulator: KubeApiEmulator;
let dynamo: LocalDynamo;
let validator: ReturnType<typeof eksTokenValidator>;
let config: SamplerRuntimeConfig;
let deadPort: number;
const bus = recordingEventBridge();
let output: string[];
const spies: { mockRestore(): void }[] = [];

beforeAll(async () => {
  validator = eksTokenValidator({ cluster: 'prod-mesh', region: REGION, credentials: CREDENTIALS });
  emulator = await startKubeApiEmulator({ validateToken: validator.validateToken });
  dynamo = await startDynalite();
  await dynamo.createTable('ledger');
  deadPort = await closedPort();
  config = samplerConfig({
    clusters: [
      clusterInput('prod-mesh', { region: REGION, namespaces: { include: [], exclude: ['kube-system'] } }),
      clusterInput('lost-cluster', { region: REGION }),
    ],
  });

  const pki = await createMeshPki('example.org');
  const mesh = new Mesh(emulator, { startTime: minutesBefore(NOW, 600) });
  for (const ns of ['shop', 'kube-system']) mesh.addNamespace(ns);
  await scriptPod(emulator, pki, mesh.addDeployment('shop', 'carts').pods[0]!, { servedBy: 'tbot', issuedAt: minutesBefore(NOW, 10), lifetimeSeconds: HOUR });
  await scriptPod(emulator, pki, mesh.addDeployment('shop', 'orders').pods[0]!, { servedBy: 'tbot', issuedAt: minutesBefore(NOW, 45), lifetimeSeconds: HOUR });
  const web = mesh.addDeployment('shop', 'web').pods[0]!;
  emulator.setProxyResponses('shop', web.metadata.name, { [ACTIVE_SECRETS_PATH]: 'failed to get config_dump: 503 Service Unavailable\n' });
  await scriptPod(emulator, pki, mesh.addDeployment('kube-system', 'coredns').pods[0]!, { servedBy: 'tbot', issuedAt: minutesBefore(NOW, 90), lifetimeSeconds: HOUR });
});

afterAll(async () => {
  await emulator.close();
  await dynamo.close();
});

beforeEach(() => {
  bus.clear();
  output = [];
  const capture = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  spies.push(jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture));
});

afterEach(() => {
  for (const spy of spies.splice(0)) spy.mockRestore();
});

let sweepCounter = 0;

function handler() {
  const logger = new Logger({ serviceName: 'mesh-cert-watch-sampler', logLevel: 'DEBUG' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-sampler' });
  const caData = Buffer.from(emulator.caCertificatePem).toString('base64');
  return createSamplerHandler(
    () => ({
      config,
      // The production factory: locally signed, auto-refreshed EKS tokens; only the endpoint
      // lookup (DescribeCluster) is replaced by the emulator's address.
      kubeClientFor: eksKubeClients(async () => CREDENTIALS, {
        resolveEndpoint: async (cluster) => ({
          endpoint: cluster.name === 'prod-mesh' ? emulator.url : `https://127.0.0.1:${deadPort}`,
          certificateAuthorityData: caData,
        }),
        kubeClient: { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
      }),
      ledger: new DynamoLedger({ client: dynamo.client(), tableName: 'ledger' }),
      events: new EventBridgeSink(bus.sender, config.eventBusName, { maxAttempts: 1 }),
      logger,
      metrics,
      clock: () => NOW,
      newSweepId: () => `sweep-h${++sweepCounter}`,
    }),
    { logger, metrics },
  );
}

type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }; [key: string]: unknown };

function lines(): Record<string, unknown>[] {
  return output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
const emf = (): Emf[] => lines().filter((l): l is Emf => '_aws' in l);
const logs = (): Record<string, unknown>[] => lines().filter((l) => !('_aws' in l));

/** The metric values of the single EMF document, by name. */
function metricValues(): Record<string, unknown> {
  const docs = emf();
  expect(docs).toHaveLength(1);
  const doc = docs[0]!;
  expect(doc._aws.CloudWatchMetrics).toHaveLength(1);
  expect(doc._aws.CloudWatchMetrics[0]!.Namespace).toBe('MeshCertWatch');
  expect(doc._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Cluster']]);
  expect(doc).not.toHaveProperty('service');
  return Object.fromEntries(doc._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, [doc[m.Name], m.Unit]]));
}

describe('sampler handler', () => {
  it('sweeps the cluster the schedule names, with our EKS token, and publishes schema-valid events', async () => {
    const result = await handler()({ cluster: 'prod-mesh' }, lambdaContext(240_000));
    const summary = { sampled: 3, skipped: 0, healthy: 1, stale: 1, expiring: 0, expired: 0, missing: 0, unreachable: 1 };
    expect(result).toEqual({ cluster: 'prod-mesh', sweepId: 'sweep-h1', partial: false, summary, eventsPublished: 5, eventsFailed: 0 });
    const events = bus.accepted();
    expect(events.map((e) => [e.detailType, e.detail.name ?? null, e.detail.change ?? null])).toEqual([
      // worst first, as in the report: unreachable ranks above stale
      ['Pod Certificate State Changed', expect.stringMatching(/^web-/), 'opened'],
      ['Pod Certificate State Changed', expect.stringMatching(/^orders-/), 'opened'],
      ['Pod Certificate Unhealthy', expect.stringMatching(/^web-/), null],
      ['Pod Certificate Unhealthy', expect.stringMatching(/^orders-/), null],
      ['Sweep Completed', null, null],
    ]);
    for (const e of events) expect(schemaErrors(e.detailType, e.detail)).toEqual([]);
    // One log line per change, for the dashboard's "changes" table.
    expect(logs().filter((l) => l.message === 'pod certificate state changed').map((l) => [l.change, l.previousState, l.state, l.namespace])).toEqual([
      ['opened', 'new', 'unreachable', 'shop'],
      ['opened', 'new', 'stale', 'shop'],
    ]);
    expect(events[4]!.detail).toMatchObject({ summary, errorsTotal: 1, errors: [{ namespace: 'shop', name: expect.stringMatching(/^web-/) }] });
    // Every API call was authenticated with a token the (re-signing) validator accepted.
    expect(validator.rejected).toEqual([]);
    expect(validator.presented.size).toBeGreaterThan(0);
    expect(emulator.requests.every((r) => r.username?.includes('assumed-role/sampler'))).toBe(true);
  });

  it('emits the per-sweep EMF metrics with exactly the [Cluster] dimension', async () => {
    await handler()({ cluster: 'prod-mesh' }, lambdaContext(240_000));
    expect(metricValues()).toEqual({
      PodsSampled: [3, 'Count'],
      PodsHealthy: [1, 'Count'],
      PodsStale: [1, 'Count'],
      PodsExpiring: [0, 'Count'],
      PodsExpired: [0, 'Count'],
      PodsUnreachable: [1, 'Count'],
      MinRemainingSeconds: [15 * 60, 'Seconds'],
    });
    expect(emf()[0]!.Cluster).toBe('prod-mesh');
  });

  it('logs one line per unhealthy pod and per state change, with the fields the dashboard tables read', async () => {
    await handler()({ cluster: 'prod-mesh' }, lambdaContext(240_000));
    const unhealthy = logs().filter((l) => l.message === 'pod certificate unhealthy');
    expect(unhealthy.map((l) => [l.state, String(l.pod).split('-')[0]])).toEqual([
      ['unreachable', 'web'],
      ['stale', 'orders'],
    ]);
    expect(unhealthy[1]).toMatchObject({
      level: 'INFO',
      cluster: 'prod-mesh',
      sweepId: expect.stringMatching(/^sweep-h\d+$/),
      namespace: 'shop',
      workload: expect.stringMatching(/^Deployment\/orders/),
      node: expect.any(String),
      findings: expect.any(String),
      remainingSeconds: 15 * 60,
      source: expect.any(String),
    });
    expect(unhealthy[0]).toMatchObject({ error: expect.any(String) });
    expect(unhealthy[0]).not.toHaveProperty('remainingSeconds');
    // The ledger already knows these pods (an earlier test's sweep): no change, no change line.
    expect(bus.accepted().filter((e) => e.detailType === 'Pod Certificate State Changed')).toEqual([]);
    expect(logs().filter((l) => l.message === 'pod certificate state changed')).toEqual([]);
  });

  it('logs structured JSON with the sweep id and cluster, and never a token', async () => {
    await handler()({ cluster: 'prod-mesh' }, lambdaContext(240_000));
    const summaryLine = logs().find((l) => l.message === 'sweep completed');
    expect(summaryLine).toMatchObject({ level: 'INFO', cluster: 'prod-mesh', sweepId: expect.stringMatching(/^sweep-h\d+$/), eventsPublished: 3, partial: false });
    expect(logs().find((l) => l.message === 'sweep starting')).toMatchObject({ level: 'DEBUG', sweepId: summaryLine!.sweepId });
    const printed = output.join('');
    expect(validator.presented.size).toBeGreaterThan(0);
    for (const token of validator.presented) {
      expect(printed).not.toContain(token);
      expect(printed).not.toContain(token.slice('k8s-aws-v1.'.length, 60));
    }
    expect(printed).not.toContain(CREDENTIALS.secretAccessKey);
    expect(printed).not.toMatch(/k8s-aws-v1\.|X-Amz-Signature|Bearer /);
  });

  it('fails the invocation with ClusterUnreachableError after publishing Sweep Completed (failed), emitting no metric (the sweeps-missing alarm counts PodsSampled)', async () => {
    const error = await handler()({ cluster: 'lost-cluster' }, lambdaContext(240_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterUnreachableError);
    expect(bus.accepted().map((e) => [e.detailType, e.detail.cluster, e.detail.failed, e.detail.partial])).toEqual([['Sweep Completed', 'lost-cluster', true, false]]);
    expect(emf().filter((doc) => doc._aws.CloudWatchMetrics.some((d) => d.Metrics.length > 0))).toEqual([]);
    expect(logs().find((l) => l.message === 'sweep failed')).toMatchObject({
      level: 'ERROR',
      cluster: 'lost-cluster',
      errorType: 'ClusterUnreachableError',
      errorCode: 'CLUSTER_UNREACHABLE',
      failed: true,
    });
  });

  it('stops sampling when the deadline is near: a partial sweep, reported as such', async () => {
    // 15 s left, margin 20 s: the deadline has already passed, nothing is sampled.
    const result = await handler()({ cluster: 'prod-mesh' }, lambdaContext(15_000));
    expect(result).toMatchObject({ partial: true, summary: { sampled: 0 } });
    expect(bus.accepted().map((e) => [e.detailType, e.detail.partial])).toEqual([['Sweep Completed', true]]);
    expect(logs().find((l) => typeof l.message === 'string' && l.message.startsWith('sweep completed partially'))).toBeDefined();
  });

  it('rejects an event without a cluster, or naming one not configured, and publishes nothing', async () => {
    const h = handler();
    await expect(h({}, lambdaContext(240_000))).rejects.toBeInstanceOf(InvalidEventError);
    await expect(h({ cluster: 'staging' }, lambdaContext(240_000))).rejects.toThrow(ConfigError);
    await expect(h({ cluster: 'staging' }, lambdaContext(240_000))).rejects.toThrow(/cluster "staging", which is not configured \(prod-mesh, lost-cluster\)/);
    expect(bus.calls()).toEqual([]);
  });
});

describe('sweepDeadline', () => {
  it('is the remaining time minus the margin, the margin covering two sample timeouts and the publishing', () => {
    expect(sweepDeadline({ now: NOW, remainingMs: 240_000, marginSeconds: 20, sampleTimeoutSeconds: 15 }).toISOString()).toBe('2026-11-27T12:03:20.000Z');
    expect(sweepDeadline({ now: NOW, remainingMs: 240_000, marginSeconds: 5, sampleTimeoutSeconds: 30 }).toISOString()).toBe('2026-11-27T12:02:50.000Z');
  });

  it('leaves the window the exec ceiling is counted over: the budget a second times the timeout less that margin', () => {
    expect(execsPerSweepCeiling({ maxExecStartsPerSecond: 50, timeoutSeconds: 280, marginSeconds: 20, sampleTimeoutSeconds: 15 })).toBe(12_000);
    expect(execsPerSweepCeiling({ maxExecStartsPerSecond: 90, timeoutSeconds: 280, marginSeconds: 60, sampleTimeoutSeconds: 15 })).toBe(19_800);
    expect(execsPerSweepCeiling({ maxExecStartsPerSecond: 50, timeoutSeconds: 30, marginSeconds: 20, sampleTimeoutSeconds: 15 })).toBe(0);
  });
});

describe('sweepMetrics', () => {
  it('emits the pod counts the alarms read, without missing (derived) and without the extreme when no pod had a certificate', () => {
    const report = {
      summary: { sampled: 1, skipped: 2, healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 1 },
      pods: [{ certificate: null, secrets: [], error: 'exec timed out' }],
    } as unknown as Parameters<typeof sweepMetrics>[0]['report'];
    const names = sweepMetrics({ report, figures: podFiguresOf(report!.pods) }).map((m) => `${m.name}=${m.value}`);
    expect(names).toEqual(['PodsSampled=1', 'PodsHealthy=0', 'PodsStale=0', 'PodsExpiring=0', 'PodsExpired=0', 'PodsUnreachable=1']);
    expect(sweepMetrics({ report: null })).toEqual([]);
  });

  it('takes the minimum remaining validity over all pods, tallied as they are judged', () => {
    const cert = (age: number, remaining: number) => ({ ageSeconds: age, remainingSeconds: remaining });
    const report = {
      summary: { sampled: 2, skipped: 0, healthy: 1, stale: 1, expiring: 0, expired: 0, missing: 0, unreachable: 0 },
      pods: [{ certificate: cert(100, 3500) }, { certificate: cert(2800, 800) }],
    } as unknown as Parameters<typeof sweepMetrics>[0]['report'];
    const values = Object.fromEntries(sweepMetrics({ report, figures: podFiguresOf(report!.pods) }).map((m) => [m.name, m.value]));
    expect(values.MinRemainingSeconds).toBe(800);
    // The report may keep only some pods (the sampler keeps those it has events for): the figures count them all.
    const tally = new PodFiguresTally();
    for (const pod of report!.pods) tally.add(pod);
    expect(sweepMetrics({ report: { ...report!, pods: [] }, figures: tally.figures() }).find((m) => m.name === 'MinRemainingSeconds')?.value).toBe(800);
  });
});
