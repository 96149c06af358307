/** The notifier's DynamoDB items against dynalite: delivery claims and the per-webhook rate gate. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDeliveryLog, DynamoIncidentLog, DynamoPostGate } from '../../src/aws/notification-store.js';
import { TimeoutError } from '../../src/core/model/errors.js';
import { startDynalite, type LocalDynamo } from '../remediator/kit.js';
import { FakeClock } from './kit.js';

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

async function freshTable(): Promise<string> {
  tables += 1;
  const name = `store-${tables}`;
  await dynamo.createTable(name);
  return name;
}

const T0 = new Date('2026-11-20T03:20:00.000Z');
const seconds = (n: number) => new Date(T0.getTime() + n * 1000);

describe('DynamoDeliveryLog', () => {
  it('lets one holder claim a key; others see it in flight, then delivered once confirmed', async () => {
    const log = new DynamoDeliveryLog({ client: dynamo.client(), tableName: await freshTable(), leaseSeconds: 60 });
    expect(await log.claim('change#c#u#opened#s', 'req-1', T0)).toBe('claimed');
    expect(await log.claim('change#c#u#opened#s', 'req-2', seconds(1))).toBe('in-flight');
    await log.confirm('change#c#u#opened#s', 'req-1', seconds(2));
    expect(await log.claim('change#c#u#opened#s', 'req-2', seconds(3))).toBe('delivered');
    // Long after the lease: a delivered key stays delivered.
    expect(await log.claim('change#c#u#opened#s', 'req-3', seconds(3600))).toBe('delivered');
  });

  it('lets a retry claim a released key, or one whose holder died and whose lease ran out', async () => {
    const log = new DynamoDeliveryLog({ client: dynamo.client(), tableName: await freshTable(), leaseSeconds: 60 });
    expect(await log.claim('k1', 'req-1', T0)).toBe('claimed');
    await log.release('k1', 'req-1');
    expect(await log.claim('k1', 'req-2', seconds(1))).toBe('claimed');

    expect(await log.claim('k2', 'req-1', T0)).toBe('claimed');
    expect(await log.claim('k2', 'req-2', seconds(59))).toBe('in-flight');
    expect(await log.claim('k2', 'req-2', seconds(61))).toBe('claimed');
    // The first holder's late release must not free the new holder's claim.
    await log.release('k2', 'req-1');
    expect(await log.claim('k2', 'req-3', seconds(62))).toBe('in-flight');
  });

  it('refuses to confirm a claim that someone else holds now', async () => {
    const log = new DynamoDeliveryLog({ client: dynamo.client(), tableName: await freshTable(), leaseSeconds: 60 });
    await log.claim('k', 'req-1', T0);
    await expect(log.confirm('k', 'req-2', seconds(1))).rejects.toMatchObject({ code: 'AWS' });
  });

  it('fails with the table named when DynamoDB is not there', async () => {
    const log = new DynamoDeliveryLog({ client: dynamo.client(), tableName: 'no-such-table', leaseSeconds: 60 });
    await expect(log.claim('k', 'req-1', T0)).rejects.toThrow(/claim notification k in no-such-table/);
  });
});

describe('DynamoPostGate', () => {
  it('spaces posts to one webhook by the interval, across gate instances, and not those to another webhook', async () => {
    const tableName = await freshTable();
    const clock = new FakeClock(T0.getTime());
    const gate = (client = dynamo.client()) => new DynamoPostGate({ client, tableName, intervalMs: 1000, clock: clock.now, sleep: clock.sleep });
    const first = gate();
    const second = gate(); // another invocation of the function
    const deadline = T0.getTime() + 30_000;
    await first.acquire('webhook-a', deadline);
    await first.acquire('webhook-b', deadline);
    expect(clock.sleeps).toEqual([]);
    clock.advance(300);
    await second.acquire('webhook-a', deadline);
    expect(clock.sleeps).toEqual([700]);
    await first.acquire('webhook-a', deadline);
    expect(clock.sleeps).toEqual([700, 1000]);
  });

  it('gives up with a TimeoutError rather than wait past the deadline', async () => {
    const tableName = await freshTable();
    const clock = new FakeClock(T0.getTime());
    const gate = new DynamoPostGate({ client: dynamo.client(), tableName, intervalMs: 5000, clock: clock.now, sleep: clock.sleep });
    await gate.acquire('webhook-a', T0.getTime() + 1000);
    await expect(gate.acquire('webhook-a', T0.getTime() + 1000)).rejects.toBeInstanceOf(TimeoutError);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('DynamoIncidentLog', () => {
  it('counts the pods holding a workload incident open per destination; a repeated update changes nothing more', async () => {
    const log = new DynamoIncidentLog({ client: dynamo.client(), tableName: await freshTable() });
    const workload = 'prod/shop/Deployment/carts';
    expect(await log.update('pagerduty:a', workload, ['u1', 'u2'], [], T0)).toBe(2);
    expect(await log.update('pagerduty:a', workload, ['u1', 'u2'], [], T0)).toBe(2);
    // Another destination keeps its own count.
    expect(await log.update('pagerduty:b', workload, ['u3'], [], T0)).toBe(1);
    expect(await log.update('pagerduty:a', workload, [], ['u1'], seconds(60))).toBe(1);
    expect(await log.update('pagerduty:a', workload, [], ['u1'], seconds(60))).toBe(1);
    expect(await log.update('pagerduty:a', workload, [], ['u2', 'u9'], seconds(120))).toBe(0);
    // Closing what was never open, on a workload never seen: nothing open.
    expect(await log.update('pagerduty:a', 'prod/shop/Deployment/other', [], ['u5'], seconds(120))).toBe(0);
    // A pod both reported open and closed in one batch stays open.
    expect(await log.update('pagerduty:a', workload, ['u4'], ['u4'], seconds(180))).toBe(1);
  });
});
