/**
 * The remediator Lambda handler (middy + Powertools) with the emulator as the cluster, dynalite
 * as the guard's table and a recording EventBridge sender: what it publishes, the EMF metrics it
 * prints, and when it fails the invocation instead.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { PutEventsCommand, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { DynamoRestartGuard } from '../../src/aws/restart-guard.js';
import type { EventBridgeSender } from '../../src/aws/event-publisher.js';
import { parseRuntimeConfig, remediatorRuntimeConfig, type RemediatorRuntimeConfigInput } from '../../src/config/runtime.js';
import { ClusterUnreachableError, ConfigError, InvalidEventError } from '../../src/core/model/errors.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import type { KubeClientFactory } from '../../src/ports/clusters.js';
import { createRemediatorHandler, type UnhealthyEvent } from '../../src/remediator/lambda.js';
import { minutes, NOW, startDynalite, triggerFor, type LocalDynamo } from './kit.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const CONFIG_INPUT: RemediatorRuntimeConfigInput = {
  eventBusName: 'mesh-cert-watch',
  budgetTableName: 'remediator-budget',
  policy: { restartStates: ['expiring', 'expired'], cooldownMinutes: 15, budgetPerHour: 5, breakerUnhealthyShare: 0.5, dryRun: false, deleteBarePods: false },
  clusters: [{ name: 'prod-mesh', region: 'eu-west-1' }],
};

const CONTEXT = { functionName: 'mesh-cert-watch-remediator', awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:x', memoryLimitInMB: '256', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

const schema = JSON.parse(readFileSync(new URL('../../src/events/schemas/workload-restart.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validateDetail = ajv.compile(schema);

let emulator: KubeApiEmulator;
let mesh: Mesh;
let dynamo: LocalDynamo;
let sent: PutEventsCommand['input'][];
let answer: (input: PutEventsCommand['input']) => PutEventsCommandOutput;
let stdout: string[];
let writeSpy: { mockRestore(): void };

const recordingSender: EventBridgeSender = {
  send: async (command: PutEventsCommand) => {
    sent.push(command.input);
    return answer(command.input);
  },
};

beforeAll(async () => {
  emulator = await startKubeApiEmulator();
  mesh = new Mesh(emulator);
  dynamo = await startDynalite();
  await dynamo.createTable(CONFIG_INPUT.budgetTableName);
});

afterAll(async () => {
  await emulator.close();
  await dynamo.close();
});

beforeEach(() => {
  sent = [];
  answer = (input) => ({ FailedEntryCount: 0, Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `event-${i}` })), $metadata: {} });
  stdout = [];
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  }) as typeof process.stdout.write);
});

afterEach(() => writeSpy.mockRestore());

function handlerWith(kubeClientFor: KubeClientFactory) {
  const logger = new Logger({ serviceName: 'mesh-cert-watch-remediator', logLevel: 'INFO' });
  const config = parseRuntimeConfig(remediatorRuntimeConfig, { MESH_CERT_WATCH_CONFIG: JSON.stringify(CONFIG_INPUT) });
  return createRemediatorHandler(
    () => ({
      config,
      kubeClientFor,
      guard: new DynamoRestartGuard({ client: dynamo.client(), tableName: config.budgetTableName }),
      events: new EventBridgeSink(recordingSender, config.eventBusName, { maxAttempts: 1 }),
      logger,
      clock: () => NOW,
    }),
    { logger },
  );
}

const emulatorClients: KubeClientFactory = async () => new KubeClient(emulator.kubeConfig(), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });

function eventOf(detail: unknown): UnhealthyEvent {
  return { version: '0', id: 'evt-1', 'detail-type': 'Pod Certificate Unhealthy', source: 'mesh-cert-watch', account: '111122223333', time: NOW.toISOString(), region: 'eu-west-1', resources: [], detail };
}

/** The JSON lines printed during the invocation (logs, and EMF documents if there were any). */
function printed(): Record<string, unknown>[] {
  return stdout
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
const outcomeLines = () => printed().filter((line) => line.message === 'workload restart outcome');

describe('remediator handler', () => {
  it('restarts, publishes one schema-valid Workload Restart and logs the decision (no custom metric: the dashboard counts the lines)', async () => {
    const pod = mesh.addDeployment('lambda', 'carts').pods[0]!;
    const detail = await handlerWith(emulatorClients)(eventOf(triggerFor(pod)), CONTEXT);

    expect(detail).toMatchObject({ outcome: 'restarted', workload: { kind: 'Deployment', name: 'carts' } });
    expect(sent).toHaveLength(1);
    const entry = sent[0]!.Entries![0]!;
    expect(entry).toMatchObject({ EventBusName: 'mesh-cert-watch', Source: 'mesh-cert-watch', DetailType: 'Workload Restart' });
    const published = JSON.parse(entry.Detail!);
    expect(published).toEqual(JSON.parse(JSON.stringify(detail)));
    expect(validateDetail(published)).toBe(true);

    expect(printed().filter((line) => '_aws' in line)).toEqual([]);
    expect(outcomeLines()).toEqual([
      expect.objectContaining({ level: 'INFO', cluster: 'prod-mesh', namespace: 'lambda', outcome: 'restarted', workload: { kind: 'Deployment', name: 'carts' } }),
    ]);
  });

  it('logs and publishes the skipped outcome when the breaker opens', async () => {
    const pod = mesh.addDeployment('lambda', 'orders').pods[0]!;
    const outage = { sampled: 10, skipped: 0, healthy: 1, stale: 0, expiring: 9, expired: 0, missing: 0, unreachable: 0 };
    const detail = await handlerWith(emulatorClients)(eventOf(triggerFor(pod, { sweepSummary: outage })), CONTEXT);
    expect(detail).toMatchObject({ outcome: 'skipped', reason: 'breaker' });
    expect(validateDetail(JSON.parse(sent[0]!.Entries![0]!.Detail!))).toBe(true);
    expect(outcomeLines()).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'breaker', cluster: 'prod-mesh' })]);
  });

  it('publishes a failed outcome when the cluster cannot be reached', async () => {
    const pod = mesh.addDeployment('lambda', 'users').pods[0]!;
    const unreachable: KubeClientFactory = async () => {
      throw new ClusterUnreachableError('EKS cluster prod-mesh is CREATING, not ACTIVE');
    };
    const detail = await handlerWith(unreachable)(eventOf(triggerFor(pod)), CONTEXT);
    expect(detail).toMatchObject({ outcome: 'failed', reason: 'api-error', message: 'connecting to cluster prod-mesh: EKS cluster prod-mesh is CREATING, not ACTIVE' });
    expect(validateDetail(JSON.parse(sent[0]!.Entries![0]!.Detail!))).toBe(true);
  });

  it('fails the invocation, publishing nothing, for an invalid detail or an unknown cluster', async () => {
    const pod = mesh.addDeployment('lambda', 'search').pods[0]!;
    const handler = handlerWith(emulatorClients);
    await expect(handler(eventOf({ ...triggerFor(pod), state: 'dying' }), CONTEXT)).rejects.toBeInstanceOf(InvalidEventError);
    await expect(handler(eventOf(triggerFor(pod, { cluster: 'staging' })), CONTEXT)).rejects.toBeInstanceOf(ConfigError);
    expect(sent).toEqual([]);
  });

  it('fails the invocation when PutEvents refuses the outcome, after acting', async () => {
    const pod = mesh.addDeployment('lambda', 'billing').pods[0]!;
    answer = () => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }], $metadata: {} });
    await expect(handlerWith(emulatorClients)(eventOf(triggerFor(pod, { observedAt: minutes(-2) })), CONTEXT)).rejects.toThrow(
      'PutEvents refused the Workload Restart event: AccessDeniedException: not authorized',
    );
    expect(sent).toHaveLength(1);
  });
});
