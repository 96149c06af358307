/**
 * A hung Kubernetes API cannot hold the sampler past its Lambda timeout: every request (list,
 * get, exec) has a timeout derived from the invocation's remaining time. The real handler runs
 * against the emulator, whose `hang` faults never answer; the sweep ends `partial`, with
 * `Sweep Completed` published well before the (simulated) Lambda timeout.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoLedger } from '../../src/aws/ledger.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { createSamplerHandler } from '../../src/sampler/lambda.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { clusterInput, lambdaContext, minutesBefore, recordingEventBridge, samplerConfig, scriptPod } from './kit.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const NOW = new Date('2026-11-27T12:00:00.000Z');
// Margin max(1 s, 2 × 1 s sample timeout + 10 s publishing) = 12 s: with 12.5 s left, sampling may
// start for 0.5 s and every Kubernetes request must end 10 s before the Lambda timeout.
const REMAINING_MS = 12_500;
const REQUEST_BUDGET_MS = REMAINING_MS - 10_000;

let emulator: KubeApiEmulator;
let dynamo: LocalDynamo;
const bus = recordingEventBridge();
const spies: { mockRestore(): void }[] = [];

beforeAll(async () => {
  emulator = await startKubeApiEmulator();
  dynamo = await startDynalite();
  await dynamo.createTable('ledger');
  const pki = await createMeshPki('example.org');
  const mesh = new Mesh(emulator, { startTime: minutesBefore(NOW, 600) });
  for (const name of ['carts', 'orders', 'web']) {
    await scriptPod(emulator, pki, mesh.addDeployment('shop', name).pods[0]!, { servedBy: 'tbot', issuedAt: minutesBefore(NOW, 10), lifetimeSeconds: 3600 });
  }
});

afterAll(async () => {
  await emulator.close();
  await dynamo.close();
});

beforeEach(() => {
  bus.clear();
  emulator.clearFaults();
  emulator.setExecHandler(undefined);
  const quiet = (() => true) as typeof process.stdout.write;
  spies.push(jest.spyOn(process.stdout, 'write').mockImplementation(quiet), jest.spyOn(process.stderr, 'write').mockImplementation(quiet));
});

afterEach(() => {
  for (const spy of spies.splice(0)) spy.mockRestore();
});

function handler(options: { sampleTimeoutSeconds?: number; requestTimeoutMs?: number } = {}) {
  const logger = new Logger({ serviceName: 'mesh-cert-watch-sampler', logLevel: 'WARN' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-sampler' });
  const config = samplerConfig({ sweepDeadlineMarginSeconds: 1, clusters: [clusterInput('prod-mesh', { sampleTimeoutSeconds: options.sampleTimeoutSeconds ?? 1 })] });
  const kubeOptions = { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}) };
  return createSamplerHandler(
    () => ({
      config,
      kubeClientFor: async () => new KubeClient(emulator.kubeConfig(), kubeOptions),
      ledger: new DynamoLedger({ client: dynamo.client(), tableName: 'ledger' }),
      events: new EventBridgeSink(bus.sender, config.eventBusName, { maxAttempts: 1 }),
      logger,
      metrics,
      clock: () => NOW,
    }),
    { logger, metrics },
  );
}

describe('a hung Kubernetes API', () => {
  it('hung pod list: a partial sweep naming the timeout, Sweep Completed published before the Lambda timeout', async () => {
    emulator.injectFault({ method: 'GET', path: /\/pods(\?|$)/, effect: 'hang' });
    const started = Date.now();
    const result = await handler()({ cluster: 'prod-mesh' }, lambdaContext(REMAINING_MS));
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ partial: true, summary: { sampled: 0 } });
    const completed = bus.accepted().filter((e) => e.detailType === 'Sweep Completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.detail).toMatchObject({ partial: true, failed: false });
    expect((completed[0]!.detail.errors as { error: string }[])[0]!.error).toMatch(
      /^pod list stopped early: list pods in all namespaces: no answer from the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ within \d+ ms$/,
    );
    // The request budget, not the Lambda timeout, ended it (publishing keeps its 10 s).
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_BUDGET_MS - 200);
    expect(elapsed).toBeLessThan(REMAINING_MS - 5_000);
  });

  it('hung ReplicaSet GETs and a hung exec: every pod is still judged, the hung one unreachable with a clear error', async () => {
    emulator.injectFault({ method: 'GET', path: /\/replicasets\//, effect: 'hang' });
    emulator.setExecHandler((request) => (request.pod.startsWith('web-') ? 'hang' : emulator.defaultExecHandler(request)));
    const started = Date.now();
    // Healthy execs get 4 s (a loaded CI machine), the hung GETs the 2 s request timeout.
    const result = await handler({ sampleTimeoutSeconds: 4, requestTimeoutMs: 2_000 })({ cluster: 'prod-mesh' }, lambdaContext(30_000));
    expect(Date.now() - started).toBeLessThan(30_000 - 10_000);
    expect(result.summary).toMatchObject({ sampled: 3, healthy: 2, unreachable: 1 });
    const completed = bus.accepted().find((e) => e.detailType === 'Sweep Completed')!;
    const errors = completed.detail.errors as { name: string; error: string }[];
    expect(errors).toHaveLength(1);
    expect(errors[0]!.name).toMatch(/^web-/);
    expect(errors[0]!.error).toMatch(/^exec into shop\/web-[\w-]+ timed out after \d+ ms$/);
    // The owner lookups that hung fell back to the pod's direct controller.
    const unhealthy = bus.accepted().filter((e) => e.detailType === 'Pod Certificate Unhealthy');
    expect(unhealthy.map((e) => (e.detail.workload as { kind: string }).kind)).toEqual(['ReplicaSet']);
  });
});
