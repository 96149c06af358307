/** The RestartGuard contract, run against DynamoDB (dynalite, real SDK) and the in-memory guard. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRestartGuard } from '../../src/aws/restart-guard.js';
import { MeshCertWatchError } from '../../src/core/model/errors.js';
import { InMemoryRestartGuard } from '../../src/cli/memory-restart-guard.js';
import type { RestartGuard } from '../../src/ports/restart-guard.js';
import { minutes, NOW, startDynalite, type LocalDynamo } from './kit.js';

let dynamo: LocalDynamo;
let tableCounter = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

interface Subject {
  /** A new, empty store; `guard()` then gives independent guards over it (separate clients). */
  fresh(): Promise<{ guard: () => RestartGuard }>;
}

const subjects: [string, Subject][] = [
  [
    'DynamoRestartGuard on dynalite',
    {
      fresh: async () => {
        const tableName = `guard-contract-${++tableCounter}`;
        await dynamo.createTable(tableName);
        return { guard: () => new DynamoRestartGuard({ client: dynamo.client(), tableName }) };
      },
    },
  ],
  [
    'InMemoryRestartGuard',
    {
      fresh: async () => {
        const shared = new InMemoryRestartGuard();
        return { guard: () => shared };
      },
    },
  ],
];

const LEASE = 'workload#prod-mesh#shop#Deployment#carts';
const BUDGET = 'budget#prod-mesh';
let holders = 0;
const budget = (limit: number, at: Date = NOW, holder = `holder-${++holders}`) => ({ key: BUDGET, limit, now: at, windowSeconds: 3600, holder });

describe.each(subjects)('%s', (_name, subject) => {
  it('grants exactly `budget` of 10 concurrent acquisitions (budget 3)', async () => {
    const { guard } = await subject.fresh();
    const results = await Promise.all(Array.from({ length: 10 }, () => guard().consumeBudget(budget(3))));
    expect(results.filter((r) => r.granted).length).toBe(3);
    expect(results.filter((r) => r.granted).map((r) => r.used).sort()).toEqual([1, 2, 3]);
    expect(await guard().consumeBudget(budget(3))).toMatchObject({ granted: false });
  });

  it('refuses everything with a budget of 0', async () => {
    const { guard } = await subject.fresh();
    expect(await guard().consumeBudget(budget(0))).toMatchObject({ granted: false });
  });

  it('gives back only the refunding holder\'s unit, once', async () => {
    const { guard } = await subject.fresh();
    expect((await guard().consumeBudget(budget(1, NOW, 'first'))).granted).toBe(true);
    expect((await guard().consumeBudget(budget(1))).granted).toBe(false);
    await guard().refundBudget(BUDGET, 'somebody-else'); // not theirs to give back
    expect((await guard().consumeBudget(budget(1))).granted).toBe(false);
    await guard().refundBudget(BUDGET, 'first');
    await guard().refundBudget(BUDGET, 'first'); // nothing left to refund
    expect((await guard().consumeBudget(budget(1))).granted).toBe(true);
    expect((await guard().consumeBudget(budget(1))).granted).toBe(false);
  });

  it('is a sliding 60-minute window: never more than the budget in any 60 minutes, across the clock hour too', async () => {
    const { guard } = await subject.fresh();
    // Two restarts late in one clock hour ...
    expect((await guard().consumeBudget(budget(2, minutes(50)))).granted).toBe(true);
    expect((await guard().consumeBudget(budget(2, minutes(55)))).granted).toBe(true);
    // ... leave nothing early in the next one (an hourly counter would have granted these).
    expect(await guard().consumeBudget(budget(2, minutes(65)))).toMatchObject({ granted: false, used: 2 });
    expect((await guard().consumeBudget(budget(2, minutes(109)))).granted).toBe(false);
    // The first unit comes back exactly 60 minutes after it was taken, the second 5 minutes later.
    expect(await guard().consumeBudget(budget(2, minutes(110)))).toMatchObject({ granted: true, used: 2 });
    expect((await guard().consumeBudget(budget(2, minutes(111)))).granted).toBe(false);
    expect((await guard().consumeBudget(budget(2, minutes(115)))).granted).toBe(true);
  });

  it('holds the sliding window under 10 concurrent takers at each of several instants', async () => {
    const { guard } = await subject.fresh();
    const granted: number[] = [];
    for (const at of [0, 20, 40, 59, 60, 61, 100, 121]) {
      const results = await Promise.all(Array.from({ length: 10 }, () => guard().consumeBudget(budget(3, minutes(at)))));
      for (const result of results) if (result.granted) granted.push(at);
    }
    // Every 60-minute window holds at most 3 grants.
    for (const start of granted) expect(granted.filter((at) => at >= start && at < start + 60).length).toBeLessThanOrEqual(3);
    expect(granted).toEqual([0, 0, 0, 60, 60, 60, 121, 121, 121]);
  });

  it('gives one of many concurrent lease requests the lease, until it expires', async () => {
    const { guard } = await subject.fresh();
    const attempts = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((holder) => guard().acquireLease({ key: LEASE, holder, now: NOW, ttlSeconds: 900 })));
    expect(attempts.filter((a) => a.acquired).length).toBe(1);
    const refused = attempts.find((a) => !a.acquired)!;
    if (refused.expiresAt) expect(refused.expiresAt.toISOString()).toBe(minutes(15).toISOString());
    expect((await guard().acquireLease({ key: LEASE, holder: 'f', now: minutes(14), ttlSeconds: 900 })).acquired).toBe(false);
    expect((await guard().acquireLease({ key: LEASE, holder: 'f', now: minutes(16), ttlSeconds: 900 })).acquired).toBe(true);
  });

  it('releases a lease only for its holder', async () => {
    const { guard } = await subject.fresh();
    expect((await guard().acquireLease({ key: LEASE, holder: 'owner', now: NOW, ttlSeconds: 900 })).acquired).toBe(true);
    await guard().releaseLease(LEASE, 'intruder');
    expect((await guard().acquireLease({ key: LEASE, holder: 'other', now: NOW, ttlSeconds: 900 })).acquired).toBe(false);
    await guard().releaseLease(LEASE, 'owner');
    expect((await guard().acquireLease({ key: LEASE, holder: 'other', now: NOW, ttlSeconds: 900 })).acquired).toBe(true);
  });

  it('remembers a restart until its window ends', async () => {
    const { guard } = await subject.fresh();
    const record = { restartedAt: '2030-03-01T12:00:00Z', triggeredBy: 'sweep-1', serials: ['AA01', 'AA02'] };
    expect(await guard().lastRestart(LEASE, NOW)).toBeUndefined();
    await guard().recordRestart(LEASE, record, minutes(120));
    expect(await guard().lastRestart(LEASE, minutes(119))).toEqual(record);
    expect(await guard().lastRestart(LEASE, minutes(120))).toBeUndefined();
  });
});

describe('DynamoRestartGuard items', () => {
  it('stores lease, record and budget under pk/sk with the expiresAt TTL in epoch seconds', async () => {
    const tableName = `guard-items-${++tableCounter}`;
    await dynamo.createTable(tableName);
    const guard = new DynamoRestartGuard({ client: dynamo.client(), tableName });
    await guard.acquireLease({ key: LEASE, holder: 'inv-1', now: NOW, ttlSeconds: 900 });
    await guard.recordRestart(LEASE, { restartedAt: '2030-03-01T12:00:00Z', triggeredBy: 'sweep-1', serials: ['AA01'] }, minutes(120));
    await guard.consumeBudget(budget(5, NOW, 'holder-budget'));
    const doc = DynamoDBDocumentClient.from(dynamo.client());
    const get = async (pk: string, sk: string) => (await doc.send(new GetCommand({ TableName: tableName, Key: { pk, sk } }))).Item;
    const epoch = (at: Date) => at.getTime() / 1000;
    expect(await get(LEASE, 'lease')).toEqual({ pk: LEASE, sk: 'lease', holder: 'inv-1', acquiredAt: NOW.toISOString(), expiresAt: epoch(minutes(15)) });
    expect(await get(LEASE, 'restart')).toEqual({ pk: LEASE, sk: 'restart', restartedAt: '2030-03-01T12:00:00Z', triggeredBy: 'sweep-1', serials: ['AA01'], expiresAt: epoch(minutes(120)) });
    expect(await get(BUDGET, 'slot#0')).toEqual({ pk: BUDGET, sk: 'slot#0', holder: 'holder-budget', takenAt: NOW.getTime(), expiresAt: epoch(minutes(24 * 60 + 60)) });
  });

  it('fails typed, with the SDK error as cause, when the table does not exist', async () => {
    const guard = new DynamoRestartGuard({ client: dynamo.client(), tableName: 'no-such-table' });
    const error = await guard.consumeBudget(budget(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect((error as MeshCertWatchError).code).toBe('AWS');
    expect((error as MeshCertWatchError).message).toBe('DynamoDB consume restart budget budget#prod-mesh in no-such-table failed: ResourceNotFoundException');
    expect((error as { cause?: { name?: string } }).cause?.name).toBe('ResourceNotFoundException');
  });
});
