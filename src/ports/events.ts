/**
 * Where the engines send their events. The sampler and the remediator publish through it; the
 * EventBridge adapter (src/aws/event-publisher.ts) sizes, batches and retries, tests and the demo
 * record or route locally. A sink never throws for a refused entry: it returns it, so the engine
 * can count it (never dropped silently); it throws only for a misconfiguration.
 */
import type { EventDraft } from '../core/events/events.js';

export interface PublishFailure {
  /** Position of the entry in the input. */
  readonly index: number;
  readonly detailType: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface PublishResult {
  readonly published: number;
  readonly failed: readonly PublishFailure[];
}

export interface EventSink {
  publish(drafts: readonly EventDraft[]): Promise<PublishResult>;
}
