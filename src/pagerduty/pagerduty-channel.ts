/**
 * PagerDuty as a NotificationChannel: Events API v2 events (pagerduty-events.ts) POSTed to
 * https://events.pagerduty.com/v2/enqueue with the destination's routing key (a 32-character
 * integration key, from Secrets Manager).
 *
 * Answers (PagerDuty's documented retry logic): 202 accepted; 400 the event is invalid (or the
 * routing key is): permanent, never retried; 429 too many events: retried after `Retry-After` or
 * a backoff; 5xx and network errors: retried with backoff, within the deadline. The routing key
 * is the credential: it is never put in an error message or a log line (the target id is a
 * digest of it).
 */
import { PagerDutyError, describeError } from '../core/model/errors.js';
import { ConfigError } from '../core/model/errors.js';
import { parseRetryAfter, withRetry } from '../core/model/retry.js';
import type { State } from '../core/model/types.js';
import type { Digest } from '../core/notification/digest.js';
import type { ChannelTarget, DeliveryFailure, NotificationChannel, RenderContext, SendOptions } from '../ports/notification.js';
import { webhookId } from '../slack/webhook-url.js';
import { PAGERDUTY_LIMITS, renderPagerDutyEvents, type PagerDutyEvent } from './pagerduty-events.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A routing key: 32 characters of letters and digits (PagerDuty's integration keys). */
const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;

export interface PagerDutyTarget extends ChannelTarget {
  readonly routingKey: string;
}

export interface PagerDutyChannelOptions {
  /** @default https://events.pagerduty.com/v2/enqueue (tests: the local fake) */
  readonly endpoint?: string;
  /** States that open an incident when the destination does not say. @default ['expired'] */
  readonly incidentStates?: readonly State[];
  /** Attempts per event, the first included. @default 4 */
  readonly attempts?: number;
  /** Backoff base for 429 without Retry-After, 5xx and network errors. @default 500 */
  readonly baseDelayMs?: number;
  /** One HTTP request. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** PagerDuty allows 120 events a minute per routing key. @default 500 */
  readonly minIntervalMs?: number;
  readonly fetch?: typeof globalThis.fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
  readonly random?: () => number;
}

const EXPECTED = 'must hold a PagerDuty Events API v2 integration (routing) key: 32 letters and digits, as plain text or as JSON {"routingKey": "..."}';

/** The routing key in a secret value; throws a ConfigError that does not quote the value. */
export function parseRoutingKeySecret(secretId: string, value: string): string {
  let text = value.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(`PagerDuty secret ${secretId}`, `${EXPECTED}; it looks like JSON but does not parse`);
    }
    const key = (parsed as { routingKey?: unknown; routing_key?: unknown } | null)?.routingKey ?? (parsed as { routing_key?: unknown } | null)?.routing_key;
    if (typeof key !== 'string') throw new ConfigError(`PagerDuty secret ${secretId}`, `${EXPECTED}; the JSON has no "routingKey" string`);
    text = key.trim();
  }
  if (!ROUTING_KEY.test(text)) throw new ConfigError(`PagerDuty secret ${secretId}`, EXPECTED);
  return text;
}

export class PagerDutyChannel implements NotificationChannel<PagerDutyTarget, PagerDutyEvent> {
  readonly name = 'pagerduty' as const;
  readonly incidentStates: readonly State[];
  readonly minIntervalMs: number;
  private readonly endpoint: string;
  private readonly fetch: typeof globalThis.fetch;

  constructor(private readonly options: PagerDutyChannelOptions = {}) {
    this.endpoint = options.endpoint ?? PAGERDUTY_EVENTS_URL;
    this.incidentStates = options.incidentStates ?? ['expired'];
    this.minIntervalMs = options.minIntervalMs ?? 500;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  target(secretId: string, secretText: string): PagerDutyTarget {
    const routingKey = parseRoutingKeySecret(secretId, secretText);
    return { id: webhookId(routingKey), routingKey };
  }

  /** The destination's incident states when the engine passes them, else the channel's. */
  render(digest: Digest, context: RenderContext): readonly PagerDutyEvent[] {
    return renderPagerDutyEvents(digest, context, context.incidentStates ?? this.incidentStates);
  }

  async send(target: PagerDutyTarget, event: PagerDutyEvent, options: SendOptions): Promise<void> {
    const clock = this.options.clock ?? Date.now;
    const body = JSON.stringify({ routing_key: target.routingKey, ...event });
    if (Buffer.byteLength(body, 'utf8') > PAGERDUTY_LIMITS.eventBytes) {
      throw new PagerDutyError(`PagerDuty event ${event.dedup_key} is larger than 512 KB`, 400, undefined);
    }
    await withRetry(
      async () => {
        await options.beforeAttempt?.();
        await this.post(target, body, options.deadline, clock);
      },
      {
        attempts: this.options.attempts ?? 4,
        baseDelayMs: this.options.baseDelayMs ?? 500,
        maxDelayMs: 60_000,
        deadline: options.deadline,
        clock,
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
        classify: (error) => {
          const failure = this.classify(error);
          if (!failure.retryable) return { retry: false };
          return error instanceof PagerDutyError && error.retryAfterMs !== undefined ? { retry: true, delayMs: error.retryAfterMs } : { retry: true };
        },
      },
    );
  }

  classify(error: unknown): DeliveryFailure {
    if (!(error instanceof PagerDutyError)) return { retryable: false, credentialRefused: false };
    const status = error.statusCode;
    if (status === undefined) return { retryable: true, credentialRefused: false };
    if (status === 429 || status >= 500) return { retryable: true, statusCode: status, credentialRefused: false };
    // 400 names the field at fault; a routing key PagerDuty does not know is a credential to read again.
    return { retryable: false, statusCode: status, credentialRefused: status === 401 || status === 403 || status === 404 || /routing_key/.test(error.message) };
  }

  private async post(target: PagerDutyTarget, body: string, deadline: number, clock: () => number): Promise<void> {
    const where = `PagerDuty events for routing key ${target.id}`;
    const scrub = (text: string) => text.split(target.routingKey).join('<routing-key>');
    // A request never runs past the deadline either (the Lambda would be killed mid-send).
    const timeout = Math.max(1000, Math.min(this.options.requestTimeoutMs ?? 10_000, deadline - clock()));
    let response: Response;
    try {
      response = await this.fetch(this.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeout) });
    } catch (error) {
      throw new PagerDutyError(`${where} could not be reached: ${scrub(describeError(error))}`, undefined, undefined, { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) return;
    let detail = text;
    try {
      const parsed = JSON.parse(text) as { message?: unknown; errors?: unknown };
      const errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e): e is string => typeof e === 'string') : [];
      detail = [typeof parsed.message === 'string' ? parsed.message : '', ...errors].filter(Boolean).join(': ');
    } catch {
      // not JSON: keep the text
    }
    const clean = scrub(detail).replace(/\s+/g, ' ').trim().slice(0, 300);
    const wait = response.status === 429 ? parseRetryAfter(response.headers.get('retry-after'), clock()) : undefined;
    throw new PagerDutyError(`${where} answered HTTP ${response.status}${clean ? ` (${clean})` : ''}`, response.status, wait);
  }
}
