/**
 * An EventBridge custom bus in this process, for the demo: PutEvents arrives through the same
 * `EventBridgeSender` port the publisher uses against AWS; each accepted entry becomes the event
 * envelope EventBridge delivers to targets, is matched against every rule's event pattern (the
 * stack's own patterns from src/config/event-patterns.ts, evaluated by event-pattern-matcher.ts), and is
 * queued for each rule it matched. Whoever drives the bus drains a rule's queue and invokes the
 * target: the remediator with the envelope itself, the notifier with SQS records whose bodies are
 * the envelopes (the notifier rule's SQS target has no input transformation).
 *
 * It enforces what PutEvents enforces that our code depends on: at most 10 entries per call,
 * the bus name, a JSON object as detail, and a per-entry error (`FailedEntryCount`) instead of a
 * thrown call for a bad entry.
 */
import { randomUUID } from 'node:crypto';
import type { PutEventsCommand, PutEventsCommandOutput, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { SQSRecord } from 'aws-lambda';
import type { EventBridgeSender } from '../../aws/event-publisher.js';
import { MeshCertWatchError } from '../../core/model/errors.js';
import { matchesEventPattern } from './event-pattern-matcher.js';

/** What EventBridge hands to a rule's target. */
export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

export interface BusRule {
  readonly name: string;
  readonly pattern: Readonly<Record<string, unknown>>;
}

/** One accepted event and the rules it matched (in rule order; empty = no target). */
export interface RoutedEvent {
  readonly event: EventEnvelope;
  readonly rules: readonly string[];
}

export interface LocalEventBusOptions {
  readonly busName: string;
  readonly rules: readonly BusRule[];
  readonly account?: string;
  readonly region?: string;
  /** Stamps `time`. @default real time */
  readonly clock?: () => Date;
}

const MAX_ENTRIES_PER_CALL = 10;

export class LocalEventBus implements EventBridgeSender {
  /** Every accepted event, in publish order. */
  readonly routed: RoutedEvent[] = [];
  private readonly queues = new Map<string, EventEnvelope[]>();
  private readonly clock: () => Date;

  constructor(private readonly options: LocalEventBusOptions) {
    this.clock = options.clock ?? (() => new Date());
    for (const rule of options.rules) this.queues.set(rule.name, []);
  }

  async send(command: PutEventsCommand): Promise<PutEventsCommandOutput> {
    const entries = command.input.Entries ?? [];
    if (entries.length === 0 || entries.length > MAX_ENTRIES_PER_CALL) {
      // What the SDK would throw for the whole call: a ValidationException.
      throw Object.assign(new MeshCertWatchError('AWS', `PutEvents takes 1 to ${MAX_ENTRIES_PER_CALL} entries, got ${entries.length}`), {
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const results: PutEventsResultEntry[] = entries.map((entry) => {
      if (entry.EventBusName !== this.options.busName) {
        return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName ?? '(none)'} does not exist.` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? '');
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail) || !entry.Source || !entry.DetailType) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object, with Source and DetailType set.' };
      }
      const event: EventEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: this.options.account ?? '123456789012',
        // EventBridge stamps whole seconds.
        time: this.clock().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.options.region ?? 'eu-west-1',
        resources: [...(entry.Resources ?? [])],
        detail: detail as Record<string, unknown>,
      };
      const rules = this.options.rules.filter((rule) => matchesEventPattern(rule.pattern, event)).map((rule) => rule.name);
      for (const rule of rules) this.queues.get(rule)!.push(event);
      this.routed.push({ event, rules });
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results, $metadata: { httpStatusCode: 200 } };
  }

  /** Takes every event queued for `rule` so far (the queue is then empty). */
  drain(rule: string): EventEnvelope[] {
    const queue = this.queues.get(rule);
    if (queue === undefined) throw new MeshCertWatchError('CONFIG', `the bus has no rule named ${rule}`);
    return queue.splice(0, queue.length);
  }
}

/** An SQS record carrying `body`, as the Lambda event source mapping delivers it. */
export function sqsRecord(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795057500000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1795057500000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:mesh-cert-watch-notifications',
    awsRegion: 'eu-west-1',
  };
}
