/**
 * Posts a message to a Slack incoming webhook with @slack/webhook, retrying what Slack says is
 * transient: 429 after its `Retry-After`, 5xx and network errors with backoff, within a deadline.
 * Other 4xx (bad payload, revoked webhook, archived channel) fail at once.
 *
 * @slack/webhook 8 turns a non-2xx answer into `IncomingWebhookHTTPError` (status and body, no
 * headers) and does not retry 4xx; `Retry-After` is read by the `fetch` we hand it, which keeps
 * the last response's header for this send.
 *
 * The webhook URL is the credential: it is never put in an error message (SlackError messages
 * are built here, and any text from the library or the network is scrubbed of the URL).
 */
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError, type FetchFunction } from '@slack/webhook';
import { SlackError, describeError } from '../core/model/errors.js';
import { parseRetryAfter, withRetry } from '../core/model/retry.js';
import type { SlackMessage } from './slack-message.js';

/** A resolved webhook: `id` is a digest of the URL, safe to log and to key rate limits by. */
export interface Webhook {
  readonly id: string;
  readonly url: string;
}

export interface PostOptions {
  /** Epoch ms: give up (throw the last error) rather than wait past it. */
  readonly deadline: number;
  /** Awaited before every attempt (the per-webhook rate gate). */
  readonly beforeAttempt?: () => Promise<void>;
}

export interface WebhookPosterOptions {
  /** Attempts per message, the first included. @default 4 */
  readonly attempts?: number;
  /** Backoff base for 5xx and network errors. @default 500 */
  readonly baseDelayMs?: number;
  /** A `Retry-After` longer than this is not waited for: the SQS retry comes later anyway. @default 60000 */
  readonly maxRetryAfterMs?: number;
  /** One HTTP request. @default 10000 */
  readonly requestTimeoutMs?: number;
  readonly fetch?: FetchFunction;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
  readonly random?: () => number;
}

/** `Retry-After` (seconds, or an HTTP date) in ms; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number {
  return parseRetryAfter(header, now) ?? 1000;
}

/** Removes the webhook URL, and its secret path on its own, from a text. */
export function scrubWebhook(text: string, url: string): string {
  let clean = text.split(url).join('<webhook>');
  try {
    const path = new URL(url).pathname;
    if (path.length > 1) clean = clean.split(path).join('<webhook-path>');
  } catch {
    // not a URL: nothing more to remove
  }
  return clean;
}

export class SlackWebhookPoster {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly requestTimeoutMs: number;
  private readonly fetch: FetchFunction;
  private readonly options: WebhookPosterOptions;

  constructor(options: WebhookPosterOptions = {}) {
    this.options = options;
    this.attempts = options.attempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.fetch = options.fetch ?? (globalThis.fetch as unknown as FetchFunction);
  }

  async post(webhook: Webhook, message: SlackMessage, options: PostOptions): Promise<void> {
    const clock = this.options.clock ?? Date.now;
    let retryAfter: string | null = null;
    const fetchFn: FetchFunction = async (url, init) => {
      const response = await this.fetch(url, init);
      retryAfter = response.headers.get('retry-after');
      return response;
    };
    // A request never runs past the deadline either (the Lambda would be killed mid-post).
    const timeout = Math.max(1000, Math.min(this.requestTimeoutMs, options.deadline - clock()));
    const client = new IncomingWebhook(webhook.url, { fetch: fetchFn, timeout });
    const payload = { text: message.text, blocks: message.blocks as never, unfurl_links: false, unfurl_media: false };

    await withRetry(
      async () => {
        await options.beforeAttempt?.();
        retryAfter = null;
        try {
          await client.send(payload);
        } catch (error) {
          throw this.toSlackError(error, webhook, retryAfter, clock());
        }
      },
      {
        attempts: this.attempts,
        baseDelayMs: this.baseDelayMs,
        maxDelayMs: this.maxRetryAfterMs,
        deadline: options.deadline,
        clock,
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
        ...(this.options.random ? { random: this.options.random } : {}),
        classify: (error) => {
          if (!(error instanceof SlackError)) return { retry: false };
          if (error.statusCode === 429) {
            const delayMs = error.retryAfterMs ?? 1000;
            return delayMs <= this.maxRetryAfterMs ? { retry: true, delayMs } : { retry: false };
          }
          return { retry: error.statusCode === undefined || error.statusCode >= 500 };
        },
      },
    );
  }

  private toSlackError(error: unknown, webhook: Webhook, retryAfter: string | null, now: number): SlackError {
    const where = `Slack webhook ${webhook.id}`;
    if (error instanceof IncomingWebhookHTTPError) {
      const body = scrubWebhook(String(error.body ?? ''), webhook.url).replace(/\s+/g, ' ').trim().slice(0, 200);
      const wait = error.statusCode === 429 ? retryAfterMs(retryAfter, now) : undefined;
      const detail = body === '' ? error.statusMessage : body;
      return new SlackError(`${where} answered HTTP ${error.statusCode}${detail ? ` (${scrubWebhook(detail, webhook.url)})` : ''}`, error.statusCode, wait, {
        cause: error,
      });
    }
    const original = error instanceof IncomingWebhookRequestError ? error.original : error;
    const reason = scrubWebhook(describeError(original), webhook.url);
    const cause = original instanceof Error && original.cause instanceof Error ? `: ${scrubWebhook(describeError(original.cause), webhook.url)}` : '';
    return new SlackError(`${where} could not be reached: ${reason}${cause}`, undefined, undefined, { cause: error });
  }
}
