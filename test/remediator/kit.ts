/** Shared builders for the remediator tests: triggers, policies, dynalite tables. Not a test file. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { KubeObject } from '../../src/emulator/kube-api.js';
import { DEFAULT_REMEDIATION_POLICY, type RemediationPolicy, type RemediationTrigger } from '../../src/core/remediation.js';
import type { State, Summary } from '../../src/core/types.js';

export const NOW = new Date('2030-03-01T12:00:00Z');
export const minutes = (n: number, from: Date = NOW): Date => new Date(from.getTime() + n * 60_000);
export const iso = (at: Date): string => at.toISOString();

export const POLICY: RemediationPolicy = { ...DEFAULT_REMEDIATION_POLICY, budgetPerHour: 100 };

/** A sweep where this pod is one of few unhealthy ones: the breaker stays closed. */
export const CALM_SUMMARY: Summary = { sampled: 20, skipped: 0, healthy: 19, stale: 0, expiring: 1, expired: 0, missing: 0, unreachable: 0 };

export interface TriggerOptions {
  readonly state?: State;
  readonly observedAt?: Date;
  readonly serial?: string;
  readonly notBefore?: Date;
  readonly sweepSummary?: Summary | null;
  readonly cluster?: string;
  readonly sweepId?: string;
}

/** The `Pod Certificate Unhealthy` detail the sampler would send for `pod`. */
export function triggerFor(pod: KubeObject, options: TriggerOptions = {}): RemediationTrigger {
  const state = options.state ?? 'expiring';
  const observedAt = options.observedAt ?? minutes(-1);
  const notBefore = options.notBefore ?? minutes(-52, observedAt);
  const owner = pod.metadata.ownerReferences?.[0];
  const certificate =
    state === 'missing' || state === 'unreachable'
      ? null
      : {
          serialNumber: options.serial ?? '1F00AA',
          fingerprintSha256: 'AB:CD',
          spiffeId: `spiffe://example.org/ns/${pod.metadata.namespace}/sa/app`,
          notBefore: iso(notBefore),
          notAfter: iso(minutes(60, notBefore)),
          ageSeconds: 3120,
          remainingSeconds: 480,
          lifetimeSeconds: 3600,
        };
  return {
    cluster: options.cluster ?? 'prod-mesh',
    sweepId: options.sweepId ?? 'sweep-1',
    observedAt: iso(observedAt),
    namespace: pod.metadata.namespace!,
    name: pod.metadata.name,
    uid: pod.metadata.uid!,
    serviceAccount: 'app',
    node: 'ip-10-0-1-10.ec2.internal',
    workload: owner ? { kind: owner.kind, name: owner.name } : null,
    state,
    findings: state === 'expiring' ? ['sds-pushes-stopped'] : [],
    source: 'tbot',
    certificate,
    secrets: [],
    ...(options.sweepSummary === null ? {} : { sweepSummary: options.sweepSummary ?? CALM_SUMMARY }),
  };
}

const dynalite = createRequire(import.meta.url)('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number }) => Server;

export interface LocalDynamo {
  readonly endpoint: string;
  client(): DynamoDBClient;
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

/** dynalite in this process: the real SDK and wire protocol, no mocked client. */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = (): DynamoDBClient => {
    const c = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'local-only' } });
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    endpoint,
    client,
    createTable: async (name) => {
      await admin.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      );
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
