/**
 * Publishes mesh-cert-watch events to an EventBridge bus with PutEvents.
 *
 * Why: PutEvents is not all-or-nothing. It takes at most 10 entries and 256 KiB per call, and
 * it can answer 200 with some entries failed (`FailedEntryCount`). The remediator and the
 * notifier depend on these events, so every entry is sized the AWS way, trimmed with
 * `fitDetail` when too big (flagged `truncated`, never split), batched, and failed entries or
 * throttled calls are retried with exponential backoff and jitter. Whatever still fails is
 * returned to the caller (to count in `Sweep Completed`/metrics): never dropped silently.
 */
import { PutEventsCommand, type PutEventsCommandOutput, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ConfigError } from '../core/model/errors.js';
import { EVENT_SOURCE, fitDetail, MAX_EVENT_ENTRY_BYTES, utf8Length, type EventDraft } from '../core/events/events.js';
import { backoffDelayMs, sleep as realSleep } from '../core/model/retry.js';
import type { EventSink, PublishFailure, PublishResult } from '../ports/events.js';

/** The slice of `EventBridgeClient` used here (an `EventBridgeClient` satisfies it). */
export interface EventBridgeSender {
  send(command: PutEventsCommand): Promise<PutEventsCommandOutput>;
}

export interface PublishOptions {
  /** Tries per entry, first included (default 4). */
  readonly maxAttempts?: number;
  /** First retry waits ~this long, doubling each attempt (default 200 ms). */
  readonly baseDelayMs?: number;
  /** Cap of one backoff (default 5 s). */
  readonly maxDelayMs?: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source, [0, 1). */
  readonly random?: () => number;
}

export const MAX_ENTRIES_PER_CALL = 10;

/** Entry error codes that will fail again: report them at once instead of retrying. */
const PERMANENT_ENTRY_ERRORS = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
  'AccessDeniedException',
  'ResourceNotFoundException',
]);

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'Throttling', 'RequestLimitExceeded', 'LimitExceededException']);

/** Size of an entry as EventBridge counts it: Time (14 if set) + Source + DetailType + Detail + Resources, UTF-8. */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  size += utf8Length(entry.Source ?? '') + utf8Length(entry.DetailType ?? '') + utf8Length(entry.Detail ?? '');
  for (const r of entry.Resources ?? []) size += utf8Length(r);
  return size;
}

interface Prepared {
  readonly index: number;
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
  lastError?: { code: string; message: string };
}

/** Group entries into calls of at most 10 entries and 256 KiB. */
function batches(entries: readonly Prepared[]): Prepared[][] {
  const out: Prepared[][] = [];
  let current: Prepared[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length === MAX_ENTRIES_PER_CALL || (current.length > 0 && bytes + e.size > MAX_EVENT_ENTRY_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function callErrorInfo(error: unknown): { code: string; message: string; retryable: boolean } {
  const e = error as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const code = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(error);
  const status = e?.$metadata?.httpStatusCode;
  // Client errors (4xx other than throttling) will not heal by retrying: bad bus, no permission...
  const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429 && !THROTTLING.has(code) && !e?.$retryable;
  return { code, message, retryable: !permanent };
}

/**
 * Publish `drafts` to `busName`. Resolves with how many were accepted and which were not (with
 * EventBridge's error code); rejects only on invalid options.
 */
/** The engines' event sink on one EventBridge bus (`publishEvents` with fixed bus and options). */
export class EventBridgeSink implements EventSink {
  constructor(
    private readonly client: EventBridgeSender,
    private readonly busName: string,
    private readonly options: PublishOptions = {},
  ) {}

  publish(drafts: readonly EventDraft[]): Promise<PublishResult> {
    return publishEvents(this.client, this.busName, drafts, this.options);
  }
}

export async function publishEvents(
  client: EventBridgeSender,
  busName: string,
  drafts: readonly EventDraft[],
  options: PublishOptions = {},
): Promise<PublishResult> {
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new ConfigError('maxAttempts', 'must be an integer >= 1');
  if (!(baseDelayMs >= 0)) throw new ConfigError('baseDelayMs', 'must be >= 0');
  if (busName.trim() === '') throw new ConfigError('busName', 'must not be empty');
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;

  const failed: PublishFailure[] = [];
  const fail = (p: Prepared, code: string, message: string): void => {
    failed.push({ index: p.index, detailType: p.entry.DetailType ?? '', errorCode: code, errorMessage: message });
  };

  let pending: Prepared[] = [];
  drafts.forEach((draft, index) => {
    const resources = draft.resources ? [...draft.resources] : undefined;
    const overhead = utf8Length(EVENT_SOURCE) + utf8Length(draft.detailType) + (resources ?? []).reduce((n, r) => n + utf8Length(r), 0);
    const detail = fitDetail(draft.detail, MAX_EVENT_ENTRY_BYTES - overhead);
    const entry: PutEventsRequestEntry = {
      EventBusName: busName,
      Source: EVENT_SOURCE,
      DetailType: draft.detailType,
      Detail: JSON.stringify(detail),
      ...(resources ? { Resources: resources } : {}),
    };
    const prepared: Prepared = { index, entry, size: putEventsEntrySize(entry) };
    if (prepared.size > MAX_EVENT_ENTRY_BYTES) {
      fail(prepared, 'EntryTooLarge', `entry is ${prepared.size} bytes after trimming, limit ${MAX_EVENT_ENTRY_BYTES}`);
    } else {
      pending.push(prepared);
    }
  });

  let published = 0;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const retry: Prepared[] = [];
    for (const batch of batches(pending)) {
      let output: PutEventsCommandOutput;
      try {
        output = await client.send(new PutEventsCommand({ Entries: batch.map((p) => p.entry) }));
      } catch (error) {
        const info = callErrorInfo(error);
        for (const p of batch) {
          p.lastError = { code: info.code, message: info.message };
          if (info.retryable) retry.push(p);
          else fail(p, info.code, info.message);
        }
        continue;
      }
      const results = output.Entries ?? [];
      batch.forEach((p, i) => {
        const result = results[i];
        if (result?.EventId && !result.ErrorCode) {
          published += 1;
          return;
        }
        const code = result?.ErrorCode ?? 'MissingResult';
        const message = result?.ErrorMessage ?? 'PutEvents returned no result for this entry';
        p.lastError = { code, message };
        if (PERMANENT_ENTRY_ERRORS.has(code)) fail(p, code, message);
        else retry.push(p);
      });
    }
    if (retry.length === 0) break;
    if (attempt >= maxAttempts) {
      for (const p of retry) fail(p, p.lastError?.code ?? 'Unknown', p.lastError?.message ?? '');
      break;
    }
    await sleep(backoffDelayMs(attempt - 1, baseDelayMs, maxDelayMs, random));
    pending = retry;
  }

  failed.sort((a, b) => a.index - b.index);
  return { published, failed };
}
