import { describe, expect, it } from '@jest/globals';
import { PutEventsCommand, type PutEventsCommandOutput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { publishEvents, putEventsEntrySize, type EventBridgeSender } from '../../src/aws/event-publisher.js';
import { MAX_EVENT_ENTRY_BYTES, POD_CERTIFICATE_UNHEALTHY, type EventDraft } from '../../src/core/events/events.js';
import { NOW, pod, summaryOf } from '../core/change-fixtures.js';

function draft(i: number, extra: Record<string, unknown> = {}): EventDraft {
  return {
    detailType: POD_CERTIFICATE_UNHEALTHY,
    detail: { ...pod(`p-${i}`, 'expired'), cluster: 'prod-mesh', sweepId: 's', observedAt: NOW, sweepSummary: summaryOf([pod(`p-${i}`, 'expired')]), ...extra },
  };
}

type Behaviour = (entries: PutEventsRequestEntry[], call: number) => PutEventsCommandOutput | Error;

/** A test double of our EventBridgeSender port: records calls and answers per `behaviour`. */
function fakeSender(behaviour: Behaviour) {
  const calls: PutEventsRequestEntry[][] = [];
  const sender: EventBridgeSender = {
    async send(command: PutEventsCommand) {
      const entries = command.input.Entries ?? [];
      calls.push(entries);
      const answer = behaviour(entries, calls.length);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { sender, calls };
}

const ok = (entries: PutEventsRequestEntry[]): PutEventsCommandOutput => ({
  FailedEntryCount: 0,
  Entries: entries.map((_, i) => ({ EventId: `id-${i}` })),
  $metadata: {},
});

const detailOf = (e: PutEventsRequestEntry) => JSON.parse(e.Detail!) as { name: string; truncated?: boolean };

describe('publishEvents', () => {
  it('sends at most 10 entries per call, in order, with source, detail-type and bus', async () => {
    const { sender, calls } = fakeSender(ok);
    const result = await publishEvents(sender, 'mesh-bus', Array.from({ length: 23 }, (_, i) => draft(i)), { sleep: async () => {} });
    expect(result).toEqual({ published: 23, failed: [] });
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(calls.flat().map((e) => detailOf(e).name)).toEqual(Array.from({ length: 23 }, (_, i) => `p-${i}`));
    expect(calls[0]![0]).toMatchObject({ EventBusName: 'mesh-bus', Source: 'mesh-cert-watch', DetailType: 'Pod Certificate Unhealthy' });
  });

  it('retries only the failed entries with growing, jittered backoff, then succeeds', async () => {
    const { sender, calls } = fakeSender((entries, call) => {
      if (call === 1) {
        return {
          FailedEntryCount: 2,
          Entries: entries.map((_, i) => (i === 2 || i === 5 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' } : { EventId: `e${i}` })),
          $metadata: {},
        };
      }
      if (call === 2) return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      return ok(entries);
    });
    const sleeps: number[] = [];
    const result = await publishEvents(sender, 'bus', Array.from({ length: 8 }, (_, i) => draft(i)), {
      baseDelayMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    });
    expect(result).toEqual({ published: 8, failed: [] });
    expect(calls.map((c) => c.map((e) => detailOf(e).name))).toEqual([
      ['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6', 'p-7'],
      ['p-2', 'p-5'],
      ['p-2', 'p-5'],
    ]);
    expect(sleeps).toEqual([50, 100]); // full jitter: 0.5 x ceiling, ceiling 100 then 200
  });

  it('reports entries still failing after maxAttempts, and permanent errors at once', async () => {
    const { sender, calls } = fakeSender((entries) => ({
      FailedEntryCount: entries.length - 1,
      Entries: entries.map((e) => {
        const name = detailOf(e).name;
        if (name === 'p-0') return { EventId: 'ok' };
        if (name === 'p-1') return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' };
      }),
      $metadata: {},
    }));
    const result = await publishEvents(sender, 'bus', [draft(0), draft(1), draft(2)], { maxAttempts: 3, sleep: async () => {} });
    expect(result.published).toBe(1);
    expect(result.failed).toEqual([
      { index: 1, detailType: 'Pod Certificate Unhealthy', errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' },
      { index: 2, detailType: 'Pod Certificate Unhealthy', errorCode: 'InternalFailure', errorMessage: 'boom' },
    ]);
    expect(calls.map((c) => c.length)).toEqual([3, 1, 1]);
  });

  it('fails a whole batch at once on a non-retryable call error (e.g. missing bus)', async () => {
    const missing = Object.assign(new Error('Event bus nope does not exist.'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    const { sender, calls } = fakeSender(() => missing);
    const result = await publishEvents(sender, 'nope', [draft(0), draft(1)], { sleep: async () => {} });
    expect(calls).toHaveLength(1);
    expect(result.published).toBe(0);
    expect(result.failed.map((f) => f.errorCode)).toEqual(['ResourceNotFoundException', 'ResourceNotFoundException']);
  });

  it('retries network errors (no HTTP status)', async () => {
    const { sender, calls } = fakeSender((entries, call) => (call === 1 ? Object.assign(new Error('socket hang up'), { name: 'Error' }) : ok(entries)));
    const result = await publishEvents(sender, 'bus', [draft(0)], { sleep: async () => {} });
    expect(result).toEqual({ published: 1, failed: [] });
    expect(calls).toHaveLength(2);
  });

  it('trims an oversized detail to fit and splits calls by total size', async () => {
    const { sender, calls } = fakeSender(ok);
    const big = (i: number) => draft(i, { state: 'unreachable', error: 'x'.repeat(200_000), secrets: [] });
    const result = await publishEvents(sender, 'bus', [draft(0), big(1), draft(2), draft(3, { error: 'y'.repeat(150_000) })], { sleep: async () => {} });
    expect(result).toEqual({ published: 4, failed: [] });
    for (const call of calls) {
      expect(call.reduce((n, e) => n + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(MAX_EVENT_ENTRY_BYTES);
    }
    const sent = calls.flat();
    expect(sent.map((e) => detailOf(e).name)).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
    expect(detailOf(sent[1]!).truncated).toBeUndefined(); // 200 kB fits under 256 KiB as is
    expect(calls.length).toBeGreaterThan(1);
  });

  it('reports an entry that cannot be trimmed under the limit instead of sending it', async () => {
    const { sender, calls } = fakeSender(ok);
    const result = await publishEvents(sender, 'bus', [draft(0, { name: 'n'.repeat(300_000) }), draft(1)], { sleep: async () => {} });
    expect(result.published).toBe(1);
    expect(result.failed).toEqual([expect.objectContaining({ index: 0, errorCode: 'EntryTooLarge' })]);
    expect(calls.flat()).toHaveLength(1);
  });

  it('marks a detail truncated when trimming was needed', async () => {
    const { sender, calls } = fakeSender(ok);
    await publishEvents(sender, 'bus', [draft(0, { state: 'unreachable', error: 'z'.repeat(300_000) })], { sleep: async () => {} });
    const sent = calls.flat()[0]!;
    expect(putEventsEntrySize(sent)).toBeLessThanOrEqual(MAX_EVENT_ENTRY_BYTES);
    expect(detailOf(sent).truncated).toBe(true);
  });

  it('counts entry size the AWS way', () => {
    expect(putEventsEntrySize({ Source: 'ab', DetailType: 'c', Detail: '{"é":1}', Resources: ['r1', 'r2'], Time: new Date() })).toBe(
      14 + 2 + 1 + 8 + 4, // é is 2 bytes
    );
  });
});
