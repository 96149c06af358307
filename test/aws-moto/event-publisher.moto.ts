/**
 * test:aws tier: publishEvents against moto's EventBridge, delivered by a rule to an SQS queue
 * and read back from the queue.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { publishEvents } from '../../src/aws/event-publisher.js';
import { computeChanges } from '../../src/core/events/changes.js';
import {
  buildSweepCompletedDetail,
  EVENT_SOURCE,
  MAX_EVENT_ENTRY_BYTES,
  POD_CERTIFICATE_STATE_CHANGED,
  POD_CERTIFICATE_UNHEALTHY,
  SWEEP_COMPLETED,
  type EventDraft,
} from '../../src/core/events/events.js';
import { entry, pod, report } from '../core/change-fixtures.js';
import { awsJsonCall, MOTO_ACCOUNT, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './moto-server.js';

let moto: Moto;
let events: EventBridgeClient;
const BUS = 'mesh-cert-watch-test';
const QUEUE = 'mesh-cert-watch-events';
let queueUrl = '';
const putEventsBatchSizes: number[] = [];

beforeAll(async () => {
  moto = await startMoto();
  events = new EventBridgeClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  events.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutEventsCommand') putEventsBatchSizes.push((args.input as { Entries: unknown[] }).Entries.length);
      return next(args);
    },
    { step: 'initialize', name: 'count-put-events' },
  );
  ({ QueueUrl: queueUrl } = await awsJsonCall<{ QueueUrl: string }>(moto, 'sqs', 'AmazonSQS.CreateQueue', { QueueName: QUEUE }));
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  await events.send(
    new PutRuleCommand({
      Name: 'all-mesh-cert-watch',
      EventBusName: BUS,
      EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'all-mesh-cert-watch',
      EventBusName: BUS,
      Targets: [{ Id: 'queue', Arn: `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:${QUEUE}` }],
    }),
  );
});

afterAll(async () => {
  events?.destroy();
  await moto?.stop();
});

interface Delivered {
  id: string;
  source: string;
  'detail-type': string;
  detail: { name?: string; sweepId?: string; change?: string; truncated?: boolean; errorsTotal?: number };
}

async function drainQueue(expected: number): Promise<Delivered[]> {
  const received: Delivered[] = [];
  for (let round = 0; round < 20 && received.length < expected; round += 1) {
    const { Messages = [] } = await awsJsonCall<{ Messages?: { Body: string; ReceiptHandle: string }[] }>(moto, 'sqs', 'AmazonSQS.ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
    });
    for (const m of Messages) {
      received.push(JSON.parse(m.Body) as Delivered);
      await awsJsonCall(moto, 'sqs', 'AmazonSQS.DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle });
    }
  }
  return received;
}

describe('publishEvents on moto EventBridge -> rule -> SQS', () => {
  it('publishes 23 entries in calls of at most 10 and every one arrives', async () => {
    const pods = Array.from({ length: 20 }, (_, i) => pod(`p-${String(i).padStart(2, '0')}`, i % 2 ? 'expired' : 'stale'));
    // one oversized pod detail: it must be trimmed, not split or dropped
    pods[7] = pod('p-07', 'unreachable', [], { error: 'E'.repeat(300_000) });
    const sweep = report(pods, { sweepId: 'sweep-moto' });
    const changes = computeChanges({ previous: [entry('gone-1', 'expired'), entry('gone-2', 'stale')], report: sweep, scope: 'all' });
    const drafts: EventDraft[] = [
      ...changes.unhealthy.map((detail) => ({ detailType: POD_CERTIFICATE_UNHEALTHY, detail }) as const),
      ...changes.changes.filter((c) => c.change === 'gone').map((detail) => ({ detailType: POD_CERTIFICATE_STATE_CHANGED, detail }) as const),
      { detailType: SWEEP_COMPLETED, detail: buildSweepCompletedDetail(sweep) },
    ];
    expect(drafts).toHaveLength(23);

    const result = await publishEvents(events, BUS, drafts, { maxAttempts: 3, baseDelayMs: 10 });
    expect(result).toEqual({ published: 23, failed: [] });
    expect(putEventsBatchSizes.every((n) => n >= 1 && n <= 10)).toBe(true);
    expect(putEventsBatchSizes.reduce((a, b) => a + b, 0)).toBe(23);

    const delivered = await drainQueue(23);
    expect(delivered).toHaveLength(23);
    expect(new Set(delivered.map((d) => d.id)).size).toBe(23);
    expect(delivered.every((d) => d.source === 'mesh-cert-watch')).toBe(true);
    const byType = (t: string) => delivered.filter((d) => d['detail-type'] === t);
    expect(byType(POD_CERTIFICATE_UNHEALTHY).map((d) => d.detail.name).sort()).toEqual(pods.map((p) => p.name).sort());
    expect(byType(POD_CERTIFICATE_STATE_CHANGED).map((d) => [d.detail.name, d.detail.change]).sort()).toEqual([
      ['gone-1', 'gone'],
      ['gone-2', 'gone'],
    ]);
    expect(byType(SWEEP_COMPLETED)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ sweepId: 'sweep-moto', errorsTotal: 1 }) })]);
    const big = byType(POD_CERTIFICATE_UNHEALTHY).find((d) => d.detail.name === 'p-07');
    expect(big?.detail.truncated).toBe(true);
    expect(JSON.stringify(big?.detail).length).toBeLessThan(MAX_EVENT_ENTRY_BYTES);
  });

  it('reports every entry as failed when the bus does not exist', async () => {
    const result = await publishEvents(events, 'no-such-bus', [{ detailType: SWEEP_COMPLETED, detail: buildSweepCompletedDetail(report([])) }], {
      maxAttempts: 2,
      baseDelayMs: 1,
    });
    expect(result.published).toBe(0);
    expect(result.failed).toEqual([expect.objectContaining({ index: 0, detailType: SWEEP_COMPLETED, errorCode: 'ResourceNotFoundException' })]);
  });
});
