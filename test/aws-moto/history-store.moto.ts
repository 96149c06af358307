/**
 * AWS tier (`npm run test:aws`): the rotation-history store with the real S3 client against a
 * private moto server, and the sampler handler keeping its history there across two sweeps.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { gunzipSync } from 'node:zlib';
import { eksKubeClients } from '../../src/aws/eks-clients.js';
import { S3HistoryStore, snapshotKey } from '../../src/aws/history-store.js';
import { DynamoLedger } from '../../src/aws/ledger.js';
import { METRICS_NAMESPACE } from '../../src/config/metric-names.js';
import { HISTORY_FORMAT, type HistorySnapshot } from '../../src/core/judgement/history.js';
import { MeshCertWatchError } from '../../src/core/model/errors.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { createStateTable } from '../../src/sandbox/emulator/local-dynamodb.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { createMeshPki, sidecarSecrets } from '../../src/sandbox/emulator/sidecar-secrets.js';
import { createSamplerHandler } from '../../src/sampler/lambda.js';
import { clusterInput, eksTokenValidator, lambdaContext, minutesBefore, samplerConfig, scriptPod } from '../sampler/kit.js';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './moto-server.js';
import { EventBridgeSink } from '../../src/aws/event-publisher.js';

const BUCKET = 'mesh-cert-watch-history';
const T1 = new Date('2026-11-27T12:00:00.000Z');

let moto: Moto;
let s3: S3Client;
const clients: { destroy(): void }[] = [];

function snapshot(cluster: string, sweepId: string, observedAt: string, serial = '0A'): HistorySnapshot {
  return {
    format: HISTORY_FORMAT,
    version: 1,
    cluster,
    sweepId,
    observedAt,
    pods: [
      {
        uid: 'uid-1',
        namespace: 'shop',
        name: 'carts-1',
        source: 'tbot',
        serialNumber: serial,
        fingerprintSha256: 'AA:BB',
        notBefore: '2026-11-27T11:50:00.000Z',
        notAfter: '2026-11-27T12:50:00.000Z',
        versionInfo: '2026-11-27T11:50:00.5Z',
        lastUpdated: null,
        observedAt,
      },
    ],
  };
}

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, forcePathStyle: true });
  clients.push(s3);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await moto.stop();
});

describe('S3HistoryStore', () => {
  it('has nothing for a cluster never swept', async () => {
    expect(await new S3HistoryStore(s3, BUCKET).load('never-swept')).toBeNull();
  });

  it('keeps one gzip JSON object per sweep and reads back the newest with one listing', async () => {
    const store = new S3HistoryStore(s3, BUCKET);
    await store.save(snapshot('prod', 's1', '2026-11-27T12:00:00.000Z', '01'));
    await store.save(snapshot('prod', 's3', '2026-11-27T12:10:00.000Z', '03'));
    await store.save(snapshot('prod', 's2', '2026-11-27T12:05:00.000Z', '02'));
    await store.save(snapshot('prod-2', 's9', '2026-11-27T13:00:00.000Z', '09'));
    const latest = await store.load('prod');
    expect(latest?.sweepId).toBe('s3');
    expect(latest?.pods[0]?.serialNumber).toBe('03');

    const listing = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'history/prod/' }));
    expect(listing.Contents?.map((o) => o.Key)).toEqual([
      snapshotKey({ cluster: 'prod', sweepId: 's3', observedAt: '2026-11-27T12:10:00.000Z' }),
      snapshotKey({ cluster: 'prod', sweepId: 's2', observedAt: '2026-11-27T12:05:00.000Z' }),
      snapshotKey({ cluster: 'prod', sweepId: 's1', observedAt: '2026-11-27T12:00:00.000Z' }),
    ]);
    expect(listing.Contents?.[0]?.Key).toMatch(/^history\/prod\/\d{13}-s3\.json\.gz$/);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: listing.Contents![0]!.Key! }));
    expect(object.ContentType).toBe('application/json');
    expect(object.ContentEncoding).toBe('gzip');
    const text = gunzipSync(await object.Body!.transformToByteArray()).toString('utf8');
    expect(JSON.parse(text)).toEqual(latest);
  });

  it('refuses an object that is not a snapshot, or that of another cluster, with a typed error naming the key', async () => {
    const store = new S3HistoryStore(s3, BUCKET);
    const badKey = snapshotKey({ cluster: 'broken', sweepId: 'x', observedAt: '2026-11-27T12:00:00.000Z' });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: badKey, Body: '{"format":"nope"}' }));
    const error = await store.load('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect((error as Error).message).toBe(`rotation history: s3://${BUCKET}/${badKey} is not a snapshot ("format" is not "mesh-cert-watch/rotation-history")`);
    const otherKey = snapshotKey({ cluster: 'moved', sweepId: 'y', observedAt: '2026-11-27T12:00:00.000Z' });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: otherKey, Body: JSON.stringify(snapshot('prod', 'y', '2026-11-27T12:00:00.000Z')) }));
    await expect(store.load('moved')).rejects.toThrow(/holds cluster "prod", not "moved"/);
  });

  it('reports a missing bucket as a typed AWS error, not as "no history"', async () => {
    const error = await new S3HistoryStore(s3, 'no-such-bucket').load('prod').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect((error as MeshCertWatchError).code).toBe('AWS');
    expect((error as Error).message).toMatch(/^rotation history: cannot list s3:\/\/no-such-bucket\/history\/prod\/: /);
  });
});

describe('the sampler handler with its history in S3', () => {
  let emulator: KubeApiEmulator;

  beforeAll(async () => {
    emulator = await startKubeApiEmulator({ validateToken: eksTokenValidator({ cluster: 'prod-mesh', region: MOTO_REGION, credentials: MOTO_CREDENTIALS }).validateToken });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('compares the second sweep with the first: the re-sent leaf is proven, the rotation counted', async () => {
    const aws = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
    const events = new EventBridgeClient(aws);
    const dynamo = new DynamoDBClient(aws);
    clients.push(events, dynamo);
    await events.send(new CreateEventBusCommand({ Name: 'mesh-cert-watch' }));
    await createStateTable(dynamo, 'ledger');
    const pki = await createMeshPki('example.org');
    const mesh = new Mesh(emulator, { startTime: minutesBefore(T1, 600) });
    mesh.addNamespace('shop');
    const carts = mesh.addDeployment('shop', 'carts').pods[0]!;
    const orders = mesh.addDeployment('shop', 'orders').pods[0]!;
    const issued = minutesBefore(T1, 18);
    await scriptPod(emulator, pki, carts, { servedBy: 'tbot', issuedAt: issued, lifetimeSeconds: 3600 });
    const ordersSecrets = await sidecarSecrets(pki, { servedBy: 'tbot', namespace: 'shop', serviceAccount: 'orders', issuedAt: issued, lifetimeSeconds: 3600 });
    emulator.setProxyResponses('shop', orders.metadata.name, ordersSecrets.responses);

    const clock = { now: T1 };
    const outcomes: { completed: { rotations?: unknown } }[] = [];
    const logger = new Logger({ serviceName: 'mesh-cert-watch-sampler', logLevel: 'INFO' });
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mesh-cert-watch-sampler' });
    const caData = Buffer.from(emulator.caCertificatePem).toString('base64');
    let n = 0;
    const handler = createSamplerHandler(
      () => ({
        config: samplerConfig({ eventBusName: 'mesh-cert-watch', ledgerTableName: 'ledger', historyBucketName: BUCKET, clusters: [clusterInput('prod-mesh', { region: MOTO_REGION })] }),
        kubeClientFor: eksKubeClients(async () => MOTO_CREDENTIALS, {
          resolveEndpoint: async () => ({ endpoint: emulator.url, certificateAuthorityData: caData }),
          kubeClient: { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
        }),
        ledger: new DynamoLedger({ client: dynamo, tableName: 'ledger' }),
        history: new S3HistoryStore(s3, BUCKET),
        events: new EventBridgeSink(events, 'mesh-cert-watch'),
        logger,
        metrics,
        clock: () => clock.now,
        newSweepId: () => `history-sweep-${++n}`,
        onSweepCompleted: (outcome) => outcomes.push(outcome),
      }),
      { logger, metrics },
    );
    const quiet = jest.spyOn(process.stdout, 'write').mockImplementation((() => true) as typeof process.stdout.write);
    let emf = '';
    try {
      await handler({ cluster: 'prod-mesh' }, lambdaContext(240_000));
      // T1+3m: carts rotated at its renewal point; orders' tbot re-sent the same leaf.
      clock.now = new Date(T1.getTime() + 3 * 60_000);
      await scriptPod(emulator, pki, carts, { servedBy: 'tbot', issuedAt: new Date(T1.getTime() + 2 * 60_000), lifetimeSeconds: 3600 });
      const resent = await sidecarSecrets(pki, {
        servedBy: 'tbot',
        namespace: 'shop',
        serviceAccount: 'orders',
        issuedAt: issued,
        pushedAt: new Date(T1.getTime() + 2 * 60_000),
        lifetimeSeconds: 3600,
        leaf: ordersSecrets.leaf!,
      });
      emulator.setProxyResponses('shop', orders.metadata.name, resent.responses);
      quiet.mockImplementation(((chunk: string | Uint8Array) => {
        emf += chunk.toString();
        return true;
      }) as typeof process.stdout.write);
      await handler({ cluster: 'prod-mesh' }, lambdaContext(240_000));
    } finally {
      quiet.mockRestore();
    }
    expect(outcomes[1]!.completed.rotations).toEqual({
      observed: 1,
      compared: 2,
      overdue: 1,
      provenAcrossSweeps: 1,
      bySource: { tbot: { observed: 1, compared: 2, overdue: 1, intervalSecondsP50: 20 * 60, intervalSecondsMax: 20 * 60 } },
    });
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'history/prod-mesh/' }));
    expect(listing.Contents?.map((o) => o.Key?.replace(/^history\/prod-mesh\/\d{13}-/, ''))).toEqual(['history-sweep-2.json.gz', 'history-sweep-1.json.gz']);
    // Per deployment: the rotation metrics in their own EMF document, dimension [Source] only (no
    // Cluster), the cluster as a property; per cluster: the sweep's summary log line (Logs Insights).
    const lines = emf.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const rotationDocs = lines.filter((d) => '_aws' in d && 'RotationsObserved' in d);
    expect(rotationDocs).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'MeshCertWatch',
              Dimensions: [['Source']],
              Metrics: [
                { Name: 'RotationsObserved', Unit: 'Count' },
                { Name: 'RotationIntervalMinutes', Unit: 'None' },
              ],
            },
          ],
        }),
        Source: 'tbot',
        cluster: 'prod-mesh',
        RotationsObserved: 1,
        RotationIntervalMinutes: 20,
      }),
    ]);
    expect(rotationDocs[0]).not.toHaveProperty('Cluster');
    expect(lines.find((d) => d.message === 'sweep completed' && d.rotations)).toMatchObject({
      cluster: 'prod-mesh',
      rotations: { observed: 1, overdue: 1, proven: 1, tbot_observed: 1, tbot_interval_p50_s: 1200, tbot_interval_max_s: 1200 },
    });
  });
});
