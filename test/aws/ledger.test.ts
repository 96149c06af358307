/**
 * DynamoLedger against dynalite (a DynamoDB-compatible engine, in memory, in this process):
 * real SDK clients, real wire protocol, no mocked DynamoDB client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DeleteTableCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoLedger, LedgerItemError } from '../../src/aws/ledger.js';
import { computeChanges, type LedgerEntry, type LedgerWrite } from '../../src/core/events/changes.js';
import { MeshCertWatchError } from '../../src/core/model/errors.js';
import { createStateTable, startLocalDynamo, type LocalDynamo } from '../../src/sandbox/emulator/local-dynamodb.js';
import { entry, pod, report } from '../core/change-fixtures.js';

let dynamo: LocalDynamo;
let client: DynamoDBClient;
let table = '';
let tableCounter = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  client = dynamo.client();
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(async () => {
  if (table) await client.send(new DeleteTableCommand({ TableName: table }));
  table = `ledger-${++tableCounter}`;
  await createStateTable(client, table);
});

const put = (e: LedgerEntry): LedgerWrite => ({ kind: 'put', entry: e });

/** Counts calls per command name through the client's own middleware stack. */
function countCalls(c: DynamoDBClient): Record<string, number> {
  const counts: Record<string, number> = {};
  c.middlewareStack.add(
    (next, context) => async (args) => {
      counts[context.commandName ?? '?'] = (counts[context.commandName ?? '?'] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: `count-${Math.random()}` },
  );
  return counts;
}

describe('DynamoLedger', () => {
  it('round-trips entries per cluster, including workload null, empty findings and the TTL', async () => {
    const ledger = new DynamoLedger({ client, tableName: table });
    const a = entry('a-1', 'expired', ['sds-pushes-stopped', 'workload-certs-volume']);
    const b = entry('b-1', 'healthy', ['identity-mismatch'], { workload: null, expiresAt: undefined });
    const other = entry('c-1', 'stale');
    await ledger.apply('prod-mesh', [put(a), put(b)]);
    await ledger.apply('staging', [put(other)]);

    const loaded = await ledger.load('prod-mesh');
    expect(loaded.sort((x, y) => x.uid.localeCompare(y.uid))).toEqual([a, b]);
    expect('expiresAt' in loaded[1]!).toBe(false);
    expect(await ledger.load('staging')).toEqual([other]);
    expect(await ledger.load('nobody')).toEqual([]);
  });

  it('writes and deletes in batches of 25 and reads all pages back', async () => {
    const counting = dynamo.client();
    const counts = countCalls(counting);
    const ledger = new DynamoLedger({ client: counting, tableName: table, queryPageSize: 7 });
    const entries = Array.from({ length: 60 }, (_, i) => entry(`p-${String(i).padStart(2, '0')}`, 'stale'));
    await ledger.apply('prod-mesh', entries.map(put));
    expect(counts.BatchWriteItemCommand).toBe(3);

    const loaded = await ledger.load('prod-mesh');
    expect(loaded.map((e) => e.uid).sort()).toEqual(entries.map((e) => e.uid).sort());
    expect(counts.QueryCommand).toBe(9); // 60 items / 7 per page, then the empty last page

    await ledger.apply('prod-mesh', entries.slice(0, 30).map((e) => ({ kind: 'delete', uid: e.uid })));
    expect((await ledger.load('prod-mesh')).map((e) => e.uid).sort()).toEqual(entries.slice(30).map((e) => e.uid).sort());
    counting.destroy();
  });

  it('collapses several writes for one pod to the last one', async () => {
    const ledger = new DynamoLedger({ client, tableName: table });
    const first = entry('a-1', 'stale');
    await ledger.apply('prod-mesh', [put(first), put({ ...first, state: 'expired' }), { kind: 'delete', uid: 'uid-x' }]);
    expect(await ledger.load('prod-mesh')).toEqual([{ ...first, state: 'expired' }]);
  });

  it('retries UnprocessedItems with backoff until all are written', async () => {
    const flaky = dynamo.client();
    // Fault injection on the real client: the first two BatchWriteItem calls hold back the second
    // half of their items from the engine and report them as UnprocessedItems, as DynamoDB does under load.
    let faults = 2;
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand' || faults === 0) return next(args);
        faults -= 1;
        const input = args.input as { RequestItems: Record<string, unknown[]> };
        const requests = input.RequestItems[table]!;
        const half = Math.ceil(requests.length / 2);
        const held = requests.slice(half);
        const result = await next({ ...args, input: { RequestItems: { [table]: requests.slice(0, half) } } });
        (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: held };
        return result;
      },
      { step: 'initialize', name: 'unprocessed-fault' },
    );
    const sleeps: number[] = [];
    const ledger = new DynamoLedger({
      client: flaky,
      tableName: table,
      baseDelayMs: 40,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const entries = Array.from({ length: 25 }, (_, i) => entry(`p-${i}`, 'expiring'));
    await ledger.apply('prod-mesh', entries.map(put));
    expect(sleeps).toEqual([20, 40]);
    expect(await ledger.load('prod-mesh')).toHaveLength(25);
    flaky.destroy();
  });

  it('gives up after maxAttempts with a typed error', async () => {
    const stuck = dynamo.client();
    stuck.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        const input = args.input as { RequestItems: Record<string, unknown[]> };
        const result = await next({ ...args, input: { RequestItems: { [table]: input.RequestItems[table]!.slice(0, 1) } } });
        (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: input.RequestItems[table]!.slice(1) };
        return result;
      },
      { step: 'initialize', name: 'always-unprocessed' },
    );
    const ledger = new DynamoLedger({ client: stuck, tableName: table, maxAttempts: 3, sleep: async () => {} });
    const error = await ledger.apply('prod-mesh', Array.from({ length: 10 }, (_, i) => put(entry(`p-${i}`, 'stale')))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshCertWatchError);
    expect((error as Error).message).toMatch(/7 item\(s\) still unprocessed after 3 attempts/);
    stuck.destroy();
  });

  it('wraps API failures (missing table) with the cause', async () => {
    const ledger = new DynamoLedger({ client, tableName: 'no-such-table' });
    const error = await ledger.load('prod-mesh').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AWS', cause: expect.objectContaining({ name: 'ResourceNotFoundException' }) });
  });

  it('refuses to guess at a malformed item', async () => {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'prod-mesh' }, sk: { S: 'uid-x' }, namespace: { S: 'shop' }, name: { S: 'x' }, state: { S: 'on-fire' } },
      }),
    );
    await expect(new DynamoLedger({ client, tableName: table }).load('prod-mesh')).rejects.toBeInstanceOf(LedgerItemError);
  });

  it('stores exactly what computeChanges decides across two sweeps', async () => {
    const ledger = new DynamoLedger({ client, tableName: table });
    const first = computeChanges({
      previous: await ledger.load('prod-mesh'),
      report: report([pod('a-1', 'expired'), pod('b-1', 'healthy'), pod('c-1', 'stale')], { sweepId: 'sweep-1' }),
      scope: 'all',
    });
    await ledger.apply('prod-mesh', first.writes);
    expect((await ledger.load('prod-mesh')).map((e) => [e.name, e.state]).sort()).toEqual([
      ['a-1', 'expired'],
      ['c-1', 'stale'],
    ]);

    const second = computeChanges({
      previous: await ledger.load('prod-mesh'),
      report: report([pod('a-1', 'healthy'), pod('b-1', 'healthy')], { sweepId: 'sweep-2' }),
      scope: 'all',
    });
    expect(second.changes.map((c) => [c.name, c.change])).toEqual([
      ['a-1', 'resolved'],
      ['c-1', 'gone'],
    ]);
    await ledger.apply('prod-mesh', second.writes);
    expect(await ledger.load('prod-mesh')).toEqual([]);
  });
});
